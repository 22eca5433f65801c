# ST-GCN++, joint stream: the smoke profile. MMAction2's ST-GCN++ recipe differs from MMAction2's
# ST-GCN recipe only in the model, so this is stgcn_smoke.py (the same shortened schedule, clip
# length, batch and lr) with the ST-GCN++ backbone, narrower: 4 stages of 16/32 channels instead of
# 10 of 64/128/256.
_base_ = 'stgcn_smoke.py'

# The values other than the model's come from stgcn_smoke.py's `bench`. A value changed here
# must also be set in the MMAction2 field that it feeds, as stgcn_smoke.py does (the tests
# check that the two agree).
bench = dict(_base_.bench)  # the same widths as ST-GCN's

model = dict(
    backbone=dict(
        _delete_=True, type='STGCN', gcn_adaptive='init', gcn_with_res=True, tcn_type='mstcn',
        graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        **bench['model']['backbone']),
    cls_head=bench['model']['cls_head'])
