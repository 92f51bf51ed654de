"""Bluetooth Low Energy: the bleak collector, the GATT profile codecs, the bumble backend and the
virtual wearable.

``profiles`` turns GATT payload bytes into canonical rows and back and knows nothing of
connections; the collector manages connections and knows nothing of byte layouts.
"""
