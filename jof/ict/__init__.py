"""The ICT service line (DESIGN §5): catalogue, subscriptions, service-desk tickets."""
