# ST-GCN++, joint stream: the cpu profile. MMAction2's ST-GCN++ recipe differs from MMAction2's ST-
# GCN recipe only in the model, so this is stgcn_cpu.py (the same shortened schedule, clip length,
# batch and lr) with the ST-GCN++ backbone, narrower: 6 stages of 32/64/128 channels instead of 10
# of 64/128/256.
_base_ = 'stgcn_cpu.py'

# The values other than the model's come from stgcn_cpu.py's `bench`. A value changed here
# must also be set in the MMAction2 field that it feeds, as stgcn_cpu.py does (the tests
# check that the two agree).
bench = dict(_base_.bench)  # the same widths as ST-GCN's

model = dict(
    backbone=dict(
        _delete_=True, type='STGCN', gcn_adaptive='init', gcn_with_res=True, tcn_type='mstcn',
        graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        **bench['model']['backbone']),
    cls_head=bench['model']['cls_head'])
