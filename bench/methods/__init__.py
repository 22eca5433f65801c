"""Method registry: lazy "module:class" entries so `bench list methods` imports nothing heavy."""
from bench.registry import Registry

METHODS = Registry("method")
# Plan-time config checks of methods whose class does not define check_config itself.
CONFIG_CHECKS = Registry("config check")
CONFIG_CHECKS.register("lvlm_var", "bench.methods.lvlm_var.config:check_config")
METHODS.register("lvlm_var", "bench.methods.lvlm_var.method:LvlmVar")
METHODS.register("stgcn", "bench.methods.gcn_zoo:STGCN")
METHODS.register("aagcn", "bench.methods.gcn_zoo:AAGCN")
METHODS.register("stgcnpp", "bench.methods.gcn_zoo:STGCNPP")
METHODS.register("ctrgcn", "bench.methods.gcn_zoo:CTRGCN")
METHODS.register("msg3d", "bench.methods.gcn_zoo:MSG3D")
METHODS.register("posec3d", "bench.methods.posec3d:PoseC3D")
METHODS.register("stgcn-fusion", "bench.methods.fusion:STGCNFusion")
METHODS.register("aagcn-fusion", "bench.methods.fusion:AAGCNFusion")
METHODS.register("stgcnpp-fusion", "bench.methods.fusion:STGCNPPFusion")
METHODS.register("ctrgcn-fusion", "bench.methods.fusion:CTRGCNFusion")
METHODS.register("msg3d-fusion", "bench.methods.fusion:MSG3DFusion")
METHODS.register("knn", "bench.methods.knn:KNN")
# Does nothing (sleeps, reports steps): tests and benchmarks of the sweep harness itself.
METHODS.register("noop", "bench.methods.noop:Noop")
METHODS.register("tsn", "bench.methods.mmaction_rgb:TSN")
METHODS.register("slowonly", "bench.methods.mmaction_rgb:SlowOnly")
