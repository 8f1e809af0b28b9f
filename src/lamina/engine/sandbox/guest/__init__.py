"""The code that runs inside a sandbox: the zygote, the Python runtime's bootstrap, the
isolation it enters, and the frame format both sides speak (frames.py).

Standard library only (tests/unit/test_guest_imports.py holds it to that): these files are
loaded by path into sandboxed interpreters that cannot see Lamina. The engine imports
frames.py, and starts zygote.py as a script from DIRECTORY.
"""

import os

DIRECTORY = os.path.dirname(os.path.abspath(__file__))
