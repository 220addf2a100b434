# The notes' Fast Poetry Server (the Twisted tutorial's twisted-server-1/fastpoetry.py), ported
# to Python 3 for the benchmark. Changes from the notes: the poem is read as bytes; print() is a
# function; the notes' debug line `print("--arg:", ...)` is gone; `--port 0` means a free port
# (the notes' `options.port or 9000` turned 0 into 9000); the first line is
# `Serving <file> on <ip>:<port>.` like poetry-server's, flushed.

import optparse, os

from twisted.internet.protocol import ServerFactory, Protocol


def parse_args():
    usage = """usage: %prog [options] poetry-file

This is the Fast Poetry Server, Twisted edition.
Run it like this:

  python fastpoetry.py <path-to-poetry-file>

If you are in the base directory of the twisted-intro package,
you could run it like this:

  python twisted-server-1/fastpoetry.py poetry/ecstasy.txt

to serve up John Donne's Ecstasy, which I know you want to do.
"""

    parser = optparse.OptionParser(usage)

    help = "The port to listen on. Default to a random available port."
    parser.add_option('--port', type='int', help=help)

    help = "The interface to listen on. Default is localhost."
    parser.add_option('--iface', help=help, default='localhost')

    options, args = parser.parse_args()

    if len(args) != 1:
        parser.error('Provide exactly one poetry file.')

    poetry_file = args[0]

    if not os.path.exists(args[0]):
        parser.error('No such file: %s' % poetry_file)

    return options, poetry_file


class PoetryProtocol(Protocol):

    def connectionMade(self):
        self.transport.write(self.factory.poem)
        self.transport.loseConnection()


class PoetryFactory(ServerFactory):

    protocol = PoetryProtocol

    def __init__(self, poem):
        self.poem = poem


def main():
    options, poetry_file = parse_args()

    poem = open(poetry_file, 'rb').read()

    factory = PoetryFactory(poem)

    from twisted.internet import reactor

    port = reactor.listenTCP(9000 if options.port is None else options.port, factory,
                             interface=options.iface)

    host = port.getHost()
    print('Serving %s on %s:%d.' % (poetry_file, host.host, host.port), flush=True)

    reactor.run()


if __name__ == '__main__':
    main()
