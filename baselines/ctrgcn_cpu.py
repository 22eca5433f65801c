# CTR-GCN, joint stream: the cpu profile. The CTR-GCN recipe (ctrgcn_paper.py) differs from
# MMAction2's ST-GCN recipe only in the model, so this is stgcn_cpu.py (the same small-data
# recipe, clip length, batch and lr; fewer epochs, below) with the CTR-GCN backbone, narrower:
# 6 stages of 32/64/128 channels instead of 10 of 64/128/256.
_base_ = 'stgcn_cpu.py'

model = dict(
    backbone=dict(
        _delete_=True, type='CTRGCN', graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        base_channels=32, num_stages=6, inflate_stages=[3, 5], down_stages=[3, 5]),
    cls_head=dict(in_channels=128))

# 24 epochs instead of stgcn_cpu.py's 30: CTR-GCN costs about 2.4 times ST-GCN per clip on a
# CPU, and 24 keeps a UTD-MHAD run near 15 minutes on one core.
max_epochs = 24
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [dict(_base_.param_scheduler[0], T_max=max_epochs)]
