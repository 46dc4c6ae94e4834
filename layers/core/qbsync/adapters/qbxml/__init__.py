"""The qbXML codec of QuickBooks Desktop: requests built with lxml in schema order, responses read leniently."""
