"""Stand-in for the get-pip.py bootstrap script that ansible-test downloads from a host this
machine cannot reach: bootstrap pip from the standard library (ensurepip), then let pip install
the version ansible-test asked for from the package index. Arguments are get-pip.py's."""
import ensurepip
import os
import subprocess
import sys

ensurepip.bootstrap(upgrade=True)
os.environ.pop('PIP_CONFIG_FILE', None)  # ensurepip sets it to /dev/null, hiding the machine's pip config
args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel')]
sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install', '--quiet'] + args))
