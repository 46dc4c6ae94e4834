"""The support page (AppSupport) the Web Connector requires: it checks the page answers 200 before it runs."""

from __future__ import annotations

import html

from aws_lambda_powertools.event_handler import Response

from qbsync.connect.pages import page


def support_page(app_name: str) -> Response[str]:
    name = html.escape(app_name)
    return page(
        200,
        "QuickBooks Web Connector endpoint",
        f"<p>This address is where the QuickBooks Web Connector on your computer exchanges data between "
        f"QuickBooks Desktop and {name}. There is nothing to do on this page.</p>"
        f"<p>To connect QuickBooks Desktop, download your Web Connector file (<code>.qwc</code>) "
        f"from {name}, open it with the QuickBooks Web Connector, and enter the password {name} gives you "
        f"with it.</p>"
        f"<p>If an update fails, the Web Connector shows the reason in its status column. "
        f"For help, contact {name}'s support.</p>",
        app_name=app_name,
    )
