{
    "name": "INGENEO - Powens bank feeds",
    "summary": "Bank movements imported automatically from Powens (PSD2) into bank journals",
    "description": """
Connects the banks of a company's accounting referential to Powens, the PSD2 bank aggregator,
so that bank movements arrive in the bank journals by themselves. Bank credentials are only
ever typed into Powens' webview.
""",
    "author": "INGENEO",
    "website": "https://www.ingeneo.fr",
    "license": "LGPL-3",
    "category": "Accounting/Accounting",
    "version": "19.0.1.2.0",
    "depends": ["account", "mail"],
    "external_dependencies": {"python": ["requests", "cryptography"]},
    "data": [
        "security/ingeneo_powens_groups.xml",
        "security/ir.model.access.csv",
        "security/ingeneo_powens_rules.xml",
        "data/ir_cron.xml",
        "data/powens_contract_data.xml",
        "data/mail_activity_type_data.xml",
        "data/mail_template_data.xml",
        "data/powens_digest_data.xml",
        "views/account_bank_statement_line_views.xml",
        "views/account_journal_views.xml",
        "views/res_company_views.xml",
        "views/powens_cockpit_views.xml",
        "views/res_config_settings_views.xml",
        "views/powens_contract_views.xml",
        "views/powens_connection_views.xml",
        "views/powens_connection_request_views.xml",
        "views/powens_wizard_views.xml",
        "views/powens_templates.xml",
        "views/powens_bulk_views.xml",
        "views/res_users_views.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "ingeneo_powens/static/src/**/*.js",
        ],
        "web.assets_tests": [
            "ingeneo_powens/static/tests/tours/*.js",
        ],
    },
    "uninstall_hook": "uninstall_hook",
}
