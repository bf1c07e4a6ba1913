# ClockPolicy: CLOCK (second chance) as a plug-in policy; see clock.pyx.
from engine._types cimport *
from engine.plugin cimport PluginPolicy

cdef class ClockPolicy(PluginPolicy):
    pass
