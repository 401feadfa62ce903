# Stand-in for pip's get-pip.py, which ansible-test fetches from a CDN to seed
# its virtualenvs. Where that CDN is out of reach, seed pip from the copy that
# ships with Python (ensurepip) and let it install what was asked for from the
# package index, exactly as get-pip.py would.
import subprocess
import sys

GET_PIP_ONLY = {'--no-setuptools': 'setuptools', '--no-wheel': 'wheel'}

args = [a for a in sys.argv[1:] if a not in GET_PIP_ONLY]
unwanted = [GET_PIP_ONLY[a] for a in sys.argv[1:] if a in GET_PIP_ONLY]
# In a child process: ensurepip blanks pip's configuration in its own environment.
subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade'])
if unwanted:
    subprocess.call([sys.executable, '-m', 'pip', 'uninstall', '-q', '-y'] + unwanted)
sys.exit(subprocess.call([sys.executable, '-m', 'pip', 'install'] + args))
