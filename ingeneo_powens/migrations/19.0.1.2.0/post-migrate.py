"""19.0.1.2.0: the cockpit "POWENS banks".

Its fields are kept up to date by the retrievals from now on; the banks fed before learn here
what their past retrievals knew: the date of their newest movement (else the filter "No
movement for 7 days" would list every one of them until new movements come), and the time,
outcome and error of their last retrieval, from its log."""


def migrate(cr, version):
    cr.execute("""
        UPDATE account_journal journal SET powens_last_movement_date = newest.date
          FROM (SELECT move.journal_id, max(move.date) AS date
                  FROM account_bank_statement_line line JOIN account_move move ON move.id = line.move_id
                 WHERE line.powens_transaction_id IS NOT NULL GROUP BY move.journal_id) newest
         WHERE newest.journal_id = journal.id
    """)
    cr.execute("""
        UPDATE account_journal journal
           SET powens_last_retrieval_at = last.started_at,
               powens_last_retrieval_outcome = CASE WHEN last.error IS NULL THEN 'success' ELSE 'failure' END,
               powens_last_error = last.error
          FROM (SELECT DISTINCT ON (journal_id) journal_id, started_at, error FROM powens_sync_log
                 ORDER BY journal_id, started_at DESC, id DESC) last
         WHERE last.journal_id = journal.id
    """)
