import { registry } from "@web/core/registry";

/**
 * Where Powens' webview sends the browser back (/odoo/powens-bank?journal_id=...): the bank
 * on its POWENS tab and, over it at once, the choice of its account when one must be made or
 * the offer to add the other accounts shared; the bank shows what they changed once they
 * close. The server decides both (account.journal.action_powens_back_from_webview).
 */
async function bankBackFromPowens(env, action) {
    const actionService = env.services.action;
    const journalId = parseInt(action.params.journal_id);
    const [bankForm, dialog] = await env.services.orm.call(
        "account.journal",
        "action_powens_back_from_webview",
        [[journalId]]
    );
    await actionService.doAction(bankForm, { clearBreadcrumbs: true });
    if (dialog) {
        await actionService.doAction(dialog, { onClose: () => actionService.doAction("soft_reload") });
    }
}
bankBackFromPowens.path = "powens-bank";

registry.category("actions").add("ingeneo_powens.bank_back_from_powens", bankBackFromPowens);
