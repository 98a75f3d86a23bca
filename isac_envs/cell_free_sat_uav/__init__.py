"""Cell-free cognitive satellite-UAV swarm network (spec cell_free_sat_uav.md)."""
