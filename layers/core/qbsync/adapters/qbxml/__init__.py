"""The qbXML codec of QuickBooks Desktop: requests built in schema order, responses read leniently."""
