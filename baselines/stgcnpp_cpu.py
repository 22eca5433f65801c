# ST-GCN++, joint stream: the cpu profile. MMAction2's ST-GCN++ recipe differs from MMAction2's ST-
# GCN recipe only in the model, so this is stgcn_cpu.py (the same shortened schedule, clip length,
# batch and lr) with the ST-GCN++ backbone, narrower: 6 stages of 32/64/128 channels instead of 10
# of 64/128/256.
_base_ = 'stgcn_cpu.py'

model = dict(
    backbone=dict(
        _delete_=True, type='STGCN', gcn_adaptive='init', gcn_with_res=True, tcn_type='mstcn',
        graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        base_channels=32, num_stages=6, inflate_stages=[3, 5], down_stages=[3, 5]),
    cls_head=dict(in_channels=128))
