# CTR-GCN, joint stream: the cpu profile. The CTR-GCN recipe (ctrgcn_paper.py) differs from
# MMAction2's ST-GCN recipe only in the model, so this is stgcn_cpu.py (the same small-data
# recipe, clip length, batch and lr; fewer epochs, below) with the CTR-GCN backbone, narrower:
# 6 stages of 32/64/128 channels instead of 10 of 64/128/256.
_base_ = 'stgcn_cpu.py'

# The values other than the model's come from stgcn_cpu.py's `bench`. A value changed here
# must also be set in the MMAction2 field that it feeds, as stgcn_cpu.py does (the tests
# check that the two agree).
# 24 epochs instead of stgcn_cpu.py's 30: CTR-GCN costs about 2.4 times ST-GCN per clip on a
# CPU, and 24 keeps a UTD-MHAD run near 15 minutes on one core.
bench = dict(_base_.bench, epochs=24)

model = dict(
    backbone=dict(
        _delete_=True, type='CTRGCN', graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        **bench['model']['backbone']),
    cls_head=bench['model']['cls_head'])

train_cfg = dict(max_epochs=bench['epochs'])
param_scheduler = [dict(_base_.param_scheduler[0], T_max=bench['epochs'])]
