from . import test_accounting_referential
from . import test_tours
from . import test_powens_connect
