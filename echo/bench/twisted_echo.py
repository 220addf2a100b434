"""The notes' Twisted echo server (§1.5), ported to Python 3, for scripts/bench.d/echo.sh.

    python twisted_echo.py PORT     (0 picks a free port; prints "listening on 127.0.0.1:PORT")
"""
import sys

from twisted.internet import protocol, reactor


class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


def main():
    factory = protocol.ServerFactory()
    factory.protocol = Echo
    port = reactor.listenTCP(int(sys.argv[1]) if len(sys.argv) > 1 else 1234, factory,
                             interface="127.0.0.1")
    print("listening on 127.0.0.1:%d" % port.getHost().port, flush=True)
    reactor.run()


if __name__ == "__main__":
    main()
