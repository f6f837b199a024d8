-- A copied database (staging, test) must not talk to the production Powens contract: forget
-- the secrets and tokens, so every Powens call fails with a clear "not configured" error.
UPDATE res_company
   SET powens_client_secret_encrypted = NULL,
       powens_webhook_secret_encrypted = NULL;
UPDATE powens_contract
   SET powens_client_secret_encrypted = NULL,
       powens_webhook_secret_encrypted = NULL;
UPDATE powens_user
   SET token_encrypted = NULL;
