# ST-GCN, joint stream: the quick profile, a first look at a whole suite (synthetic NTU60 X-Sub,
# the main command: under 15 minutes on 2 cores beside LVLM-VAR's quick recipe). stgcn_cpu.py (same
# model, pipeline, augmentation and lr) trained for fewer epochs, the cosine schedule compressed to
# them; see the README for its measured top-1.
_base_ = 'stgcn_cpu.py'

# stgcn_cpu.py's block with fewer epochs; the MMAction2 fields the epochs feed are set again
# below (the tests check that the two agree).
bench = dict(_base_.bench, epochs=12)

train_cfg = dict(max_epochs=bench['epochs'])
param_scheduler = [dict(_base_.param_scheduler[0], T_max=bench['epochs'])]
