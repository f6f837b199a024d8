from . import test_accounting_referential
from . import test_tours
from . import test_powens_connect
from . import test_translations
from . import test_powens_security
from . import test_powens_settings
from . import test_powens_sync
from . import test_powens_webhook
