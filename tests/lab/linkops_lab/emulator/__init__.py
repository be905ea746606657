"""The Cluster Linking emulator: Kafka REST v3 for every lab cluster, link and mirror state, and
the copier that really mirrors records. Run by ``labctl.py serve-emulator --config FILE``."""
