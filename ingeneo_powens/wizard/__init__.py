from . import account_referential_bank_wizard
from . import powens_consent_wizard
from . import powens_account_link_wizard
from . import powens_connector_search
from . import powens_bulk_action_lines
from . import powens_bulk_action
from . import powens_account_add_banks_wizard
