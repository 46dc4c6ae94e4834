"""Every text the dashboard pages show, by message id: English, with `{placeholders}` filled by `t()`.

Templates hold markup only and call `t("overview.title", tenant=...)`; to translate the pages, translate this
table. Values are plain text: the templates escape them.
"""

from __future__ import annotations

from collections.abc import Mapping

MESSAGES: Mapping[str, str] = {
    "lang": "en",
    # ------------------------------------------------------------------ layout
    "layout.title": "{page} - {app}",
    "layout.skip": "Skip to the main content",
    "layout.nav": "Dashboard",
    "layout.brand": "{app}: QuickBooks sync",
    "layout.read_only": "You can look, not change: this link is read-only.",
    "nav.overview": "Overview",
    "format.datetime": "{at:%Y-%m-%d %H:%M} UTC",
    # ------------------------------------------------------------------ messages (errors)
    "link_invalid.title": "This dashboard link is not valid",
    "link_invalid.text": "The link may have expired, been mistyped, or been cut short. Ask {app} for a new "
    "dashboard link.",
    "session_missing.title": "Please open your dashboard link again",
    "session_missing.text": "Your session has ended or this browser has none. Open the dashboard from {app} "
    "again to continue.",
    "csrf.title": "This form could not be sent",
    "csrf.text": "It was not sent from this dashboard's current page, so nothing was changed. Go back, "
    "reload the page and try again.",
    "read_only.title": "This dashboard is read-only",
    "read_only.text": "The link it was opened with lets you look, not change anything. Ask {app} for a link "
    "that allows changes.",
    "not_found.title": "Page not found",
    "not_found.text": "Check the address, or go back to the overview.",
    "not_found.back": "Back to the overview",
    # ------------------------------------------------------------------ overview
    "overview.title": "QuickBooks sync for {tenant}",
    "overview.sent": "{type} “{label}” was sent again. It leaves the failed list and waits to be sent.",
    "overview.not_sent": "{type} “{label}” was not sent again: {reason}",
    "connection.heading": "Connection",
    "connection.state": "State",
    "connection.company": "Company",
    "connection.company_unknown": "Not known yet",
    "connection.since": "Connected since",
    "connection.last_run": "Last run",
    "connection.never": "Not yet",
    "connection.problem": "Last problem",
    "connection.what_to_do": "What to do: {action}",
    "connection.stale": "The Web Connector has not run since {since}. Check that the computer with "
    "QuickBooks is on and the Web Connector is running.",
    "connection.reconnect": "Reconnect to QuickBooks",
    "connection.connect": "Connect to QuickBooks",
    "connection.opens_new_window": "(opens in a new window)",
    "status.not_connected": "Not connected",
    "status.connecting": "Connecting",
    "status.connected": "Connected",
    "status.needs_reauth": "Needs you to sign in again",
    "status.disconnected": "Disconnected",
    "desktop.file": "Company file",
    "desktop.product": "QuickBooks",
    "desktop.user_name": "Web Connector user name",
    "desktop.interval": "Runs every",
    "desktop.minutes": "{minutes} min",
    "desktop.qwc": "Download the .qwc file",
    "desktop.no_login": "No Web Connector password has been issued yet. Open the connect link from {app} to "
    "set up the Web Connector.",
    "counts.heading": "Records",
    "counts.caption": "Records by type and sync state",
    "counts.type": "Type",
    "counts.synced": "Synced",
    "counts.pending": "Pending",
    "counts.failed": "Failed",
    "counts.draft": "Draft",
    "counts.ignored": "Ignored",
    "counts.progress": "Synced share",
    "counts.progress_label": "{type}: {percent} % synced",
    "counts.percent": "{percent} %",
    "counts.none": "No records have been sent to QuickBooks yet.",
    "counts.as_of": "Figures as of {at}.",
    "counts.refresh": "Refresh",
    "failed.heading": "Failed records ({count})",
    "failed.none": "No record has failed.",
    "failed.more": "The first {count} are shown; fix or send these again to see the others.",
    "failed.says": "QuickBooks says:",
    "failed.todo": "What you can do:",
    "failed.code": "Code {code}",
    "failed.send_again": "Send again",
    "failed.details": "Details",
    "failed.rename": "Rename",
    "failed.link": "Link to a QuickBooks record",
    # the label after a button or link, read by screen readers only: which record it acts on
    "failed.of": "{type} {label}",
    # ------------------------------------------------------------------ record
    "record.title": "{type} “{label}”",
    "record.id": "Id in {app}",
    "record.state": "State",
    "record.quickbooks_id": "Id in QuickBooks",
    "record.none": "None yet",
    "record.failure": "Why it failed",
    "record.history": "History",
    "record.history_caption": "State changes, oldest first",
    "record.when": "When",
    "record.detail": "What happened",
    "record.candidate": "{name} ({list} {id} in QuickBooks)",
    "record.candidates": "QuickBooks records it may be linked to",
    # ------------------------------------------------------------------ record types and states
    "type.customer": "Customer",
    "type.vendor": "Vendor",
    "type.employee": "Employee",
    "type.item": "Item",
    "type.invoice": "Invoice",
    "type.payment": "Payment",
    "type.credit_memo": "Credit memo",
    "type.purchase_order": "Purchase order",
    "type.bill": "Bill",
    "state.draft": "Draft",
    "state.pending": "Pending",
    "state.syncing": "Being sent",
    "state.synced": "Synced",
    "state.failed": "Failed",
    "state.locked": "Synced and locked",
    "state.voided": "Deleted",
    "state.ignored": "Ignored",
    # ------------------------------------------------------------------ what fixes a failure
    "action.send_again": "Send it again once the cause is fixed.",
    "action.edit": "Correct the record in {app}; it is sent again when it changes.",
    "action.edit_settings": "Change the sync settings, then send it again.",
    "action.rename": "Give it another name.",
    "action.link_existing": "Link it to the record QuickBooks already has.",
    "action.push_it_first": "Add the record it refers to in {app} first.",
    "action.reconnect": "Reconnect to QuickBooks.",
    "action.create_in_quickbooks": "Create it in QuickBooks, then send this one again.",
    "action.make_active_in_quickbooks": "Make it active in QuickBooks again, then send this one again.",
    "action.other": "See the details.",
}


def t(message_id: str, /, **values: object) -> str:
    """The text of `message_id` with its placeholders filled; a KeyError names an id the catalogue lacks."""
    text = MESSAGES[message_id]
    return text.format(**values) if values else text


def has(message_id: str) -> bool:
    return message_id in MESSAGES
