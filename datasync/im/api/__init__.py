"""The IM API (DRF viewsets over the DataStore) and its ASGI read lane, sharing one query per route."""
