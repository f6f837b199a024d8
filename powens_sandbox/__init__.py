"""Local simulator of the Powens PSD2 aggregation API (REST API, webview, signed webhooks, control API).

Tests and demos of the ingeneo_powens add-on talk to it over real HTTP instead of the real Powens.
"""
