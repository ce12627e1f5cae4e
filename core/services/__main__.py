import sys

from tierwatch.core.services.manager import main

sys.exit(main(sys.argv[1:]))
