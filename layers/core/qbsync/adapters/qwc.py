"""The .qwc file a tenant adds to the QuickBooks Web Connector, written with lxml (every value escaped).

Elements in the order of Intuit's samples (shared/reference/qbwc/qwc/); the Web Connector reads them in any
order (QBWC Programmer's Guide, Table 4-1, p.33).
"""

from __future__ import annotations

from lxml import etree

from qbsync.domain.qbwc import QwcFile


def write_qwc(qwc: QwcFile) -> str:
    root = etree.Element("QBWCXML")
    for name, value in (
        ("AppName", qwc.app_name),
        ("AppID", qwc.app_id),
        ("AppURL", qwc.app_url),
        ("AppDescription", qwc.app_description),
        ("AppSupport", qwc.app_support),
        ("UserName", qwc.user_name),
        ("OwnerID", qwc.owner_id),
        ("FileID", qwc.file_id),
        ("QBType", qwc.qb_type),
    ):
        etree.SubElement(root, name).text = value
    scheduler = etree.SubElement(root, "Scheduler")
    etree.SubElement(scheduler, "RunEveryNMinutes").text = str(qwc.run_every_minutes)
    etree.SubElement(root, "IsReadOnly").text = "true" if qwc.is_read_only else "false"
    etree.indent(root, space="  ")
    body = etree.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="utf-8"?>\n{body}\n'
