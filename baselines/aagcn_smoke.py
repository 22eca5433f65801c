# AAGCN (2s-AGCN), joint stream: the smoke profile. MMAction2's 2s-AGCN recipe differs from
# MMAction2's ST-GCN recipe only in the model, so this is stgcn_smoke.py (the same shortened
# schedule, clip length, batch and lr) with the AAGCN (2s-AGCN) backbone, narrower: 4 stages of
# 16/32 channels instead of 10 of 64/128/256.
_base_ = 'stgcn_smoke.py'

model = dict(
    backbone=dict(
        _delete_=True, type='AAGCN', graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        gcn_attention=False,
        base_channels=16, num_stages=4, inflate_stages=[3], down_stages=[3]),
    cls_head=dict(in_channels=32))
