# AAGCN (2s-AGCN), joint stream: the cpu profile. MMAction2's 2s-AGCN recipe differs from
# MMAction2's ST-GCN recipe only in the model, so this is stgcn_cpu.py (the same shortened
# schedule, clip length, batch and lr) with the AAGCN (2s-AGCN) backbone, narrower: 6 stages of
# 32/64/128 channels instead of 10 of 64/128/256.
_base_ = 'stgcn_cpu.py'

model = dict(
    backbone=dict(
        _delete_=True, type='AAGCN', graph_cfg=dict(layout='nturgb+d', mode='spatial'),
        gcn_attention=False,
        base_channels=32, num_stages=6, inflate_stages=[3, 5], down_stages=[3, 5]),
    cls_head=dict(in_channels=128))
