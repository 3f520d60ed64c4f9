from . import test_provider_records
