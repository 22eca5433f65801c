"""Method registry: lazy "module:class" entries so `bench list methods` imports nothing heavy."""
from bench.registry import Registry

METHODS = Registry("method")
METHODS.register("lvlm_var", "bench.methods.lvlm_var.method:LvlmVar")
METHODS.register("stgcn", "bench.methods.mmaction_gcn:STGCN")
METHODS.register("knn", "bench.methods.knn:KNN")
