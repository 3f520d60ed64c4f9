# Inbound routes (gateway returns, webhooks, the BancoEstado webservice) land
# here with their channel issues; each module only parses, verifies and hands
# the data to the models.
