"""Webview wording in English and French; other Powens languages fall back to English."""

TEXTS = {
    "en": {
        "title": "Connect your bank",
        "reconnect_title": "Reconnect your bank",
        "manage_title": "Your bank connections",
        "sandbox_banner": "Powens sandbox: simulated banks, no real data.",
        "search_placeholder": "Search your bank",
        "search": "Search",
        "choose_bank": "Choose your bank",
        "no_bank": "No bank matches your search.",
        "test_banks_note": (
            "Test banks (simulator only): on “Banque de test (sandbox)” or “Connecteur de test”, the password "
            "selects the outcome: wrongpass, sca (one-time code 123456), decoupled, actionneeded, passwordexpired, "
            "unavailable; any other password succeeds."
        ),
        "credentials_for": "Log in to {bank}",
        "accept_terms": "I accept the Powens terms of service and privacy policy.",
        "must_accept_terms": "Please accept the terms of service to continue.",
        "decline_terms": "Decline the terms",
        "continue": "Continue",
        "cancel": "Cancel",
        "wrongpass": "Wrong login or password.",
        "otp_title": "Strong authentication",
        "otp_prompt": "Enter the one-time code sent by your bank.",
        "otp_label": "One-time code",
        "otp_wrong": "Incorrect code, please try again.",
        "decoupled_title": "Validate in your banking app",
        "decoupled_prompt": "Open your bank's mobile app and approve the connection request, then continue.",
        "decoupled_done": "I have approved it",
        "accounts_title": "Choose the accounts to share",
        "accounts_prompt": "Only the accounts you tick will be shared with the application.",
        "not_allowed": "not available for this application",
        "consent": "Share the selected accounts",
        "another_title": "Connection added",
        "another_prompt": "Do you want to connect another bank?",
        "add_another": "Add another bank",
        "finish": "Finish",
        "manage_prompt": "Choose which accounts are shared, or remove a connection.",
        "save": "Save",
        "delete": "Delete this connection",
        "close": "Close",
        "saved": "Saved.",
        "deleted": "Connection deleted.",
        "no_connection": "No bank connection yet.",
        "state_ok": "Up to date",
        "state": "State",
        "error_title": "Something went wrong",
        "closed": "You can close this window.",
        "unknown_client": "Unknown client_id.",
        "bad_redirect": "redirect_uri must be an absolute http(s) URI "
        "without a query string (put your context in state).",
        "missing_code": "The code parameter is required for this flow.",
        "bad_code": "The temporary code is invalid or has expired (codes last 30 minutes).",
        "unknown_connection": "Unknown connection_id for this user.",
        "session_expired": "This session has expired, please start again from the application.",
    },
    "fr": {
        "title": "Connectez votre banque",
        "reconnect_title": "Reconnectez votre banque",
        "manage_title": "Vos connexions bancaires",
        "sandbox_banner": "Bac à sable Powens : banques simulées, aucune donnée réelle.",
        "search_placeholder": "Rechercher votre banque",
        "search": "Rechercher",
        "choose_bank": "Choisissez votre banque",
        "no_bank": "Aucune banque ne correspond à votre recherche.",
        "test_banks_note": (
            "Banques de test (simulateur uniquement) : sur « Banque de test (sandbox) » ou « Connecteur de test », le "
            "mot de passe choisit le résultat : wrongpass, sca (code à usage unique 123456), decoupled, actionneeded, "
            "passwordexpired, unavailable ; tout autre mot de passe réussit."
        ),
        "credentials_for": "Connexion à {bank}",
        "accept_terms": (
            "J'accepte les conditions générales d'utilisation et la politique de confidentialité de Powens."
        ),
        "must_accept_terms": "Veuillez accepter les conditions générales pour continuer.",
        "decline_terms": "Refuser les conditions",
        "continue": "Continuer",
        "cancel": "Annuler",
        "wrongpass": "Identifiant ou mot de passe incorrect.",
        "otp_title": "Authentification forte",
        "otp_prompt": "Saisissez le code à usage unique envoyé par votre banque.",
        "otp_label": "Code à usage unique",
        "otp_wrong": "Code incorrect, veuillez réessayer.",
        "decoupled_title": "Validez dans votre application bancaire",
        "decoupled_prompt": (
            "Ouvrez l'application mobile de votre banque, acceptez la demande de connexion, puis continuez."
        ),
        "decoupled_done": "J'ai validé",
        "accounts_title": "Choisissez les comptes à partager",
        "accounts_prompt": "Seuls les comptes cochés seront partagés avec l'application.",
        "not_allowed": "non disponible pour cette application",
        "consent": "Partager les comptes sélectionnés",
        "another_title": "Connexion ajoutée",
        "another_prompt": "Voulez-vous connecter une autre banque ?",
        "add_another": "Ajouter une autre banque",
        "finish": "Terminer",
        "manage_prompt": "Choisissez les comptes partagés ou supprimez une connexion.",
        "save": "Enregistrer",
        "delete": "Supprimer cette connexion",
        "close": "Fermer",
        "saved": "Enregistré.",
        "deleted": "Connexion supprimée.",
        "no_connection": "Aucune connexion bancaire pour l'instant.",
        "state_ok": "À jour",
        "state": "État",
        "error_title": "Une erreur est survenue",
        "closed": "Vous pouvez fermer cette fenêtre.",
        "unknown_client": "client_id inconnu.",
        "bad_redirect": "redirect_uri doit être une URI http(s) absolue sans paramètres (utilisez state).",
        "missing_code": "Le paramètre code est obligatoire pour ce parcours.",
        "bad_code": "Le code temporaire est invalide ou a expiré (validité : 30 minutes).",
        "unknown_connection": "connection_id inconnu pour cet utilisateur.",
        "session_expired": "Cette session a expiré, veuillez recommencer depuis l'application.",
    },
}
LANGUAGES = ("en", "fr", "de", "nl", "pt", "it", "es")


def pick_language(path_language: str | None, accept_language: str) -> str:
    """The language in the URL, else the browser's first supported one, else English."""
    if path_language:
        return path_language
    for part in accept_language.split(","):
        code = part.split(";")[0].strip()[:2].lower()
        if code in LANGUAGES:
            return code
    return "en"


def texts(language: str) -> dict:
    return TEXTS.get(language, TEXTS["en"])
