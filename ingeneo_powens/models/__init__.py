from . import res_company
from . import res_config_settings
from . import powens_consent
from . import powens_connection
from . import powens_account
from . import powens_webview_state
from . import account_journal
