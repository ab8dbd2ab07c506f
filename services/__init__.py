"""collabgap's services: the A2A agent service (`services.agent`) and the coordinator (`services.coordinator`)."""
