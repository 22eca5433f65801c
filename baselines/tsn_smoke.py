# TSN, RGB: the smoke profile, tsn_cpu.py made smaller for tests (seconds on a CPU): 56-pixel crops
# of 64-pixel frames, 3 segments, 12 epochs at batch 8. Same ResNet-18, pipeline, optimiser and
# step schedule as tsn_cpu.py otherwise; see tsn_paper.py for the published recipe. bench fills in
# per run: ann_file, split names, num_classes, decoding steps, work_dir and seed.
_base_ = 'tsn_cpu.py'

# The method config bench runs this file with: tsn_cpu.py's block with these values on top (bench
# reads it without executing the file, so keep it a literal). The MMAction2 fields below set again
# only what these values feed; a value changed here must also be set in the field it feeds, as
# tsn_cpu.py does (the tests check that the two agree).
bench = dict(
    _base_.bench,
    epochs=12, num_clips=3, val_clips=3, test_clips=3,
    short_side=64, crop_size=56, render_size=64, batch_size=8,
    # The recipe's lr 0.01 is for batch 256 from ImageNet weights; from scratch at batch 8 it
    # diverged early on synthetic mini-xsub (23% top-1), lr 0.003 reached 30%.
    lr=0.003)


def _sized(pipeline, num_clips, test_crop=None):
    out = []
    for step in pipeline:
        step = dict(step)
        if step['type'] == 'SampleFrames':
            step.update(clip_len=bench['clip_len'], frame_interval=bench['frame_interval'],
                        num_clips=num_clips)
        elif step['type'] == 'Resize':
            step['scale'] = (-1, bench['short_side']) if step['scale'][0] == -1 else \
                (bench['crop_size'], bench['crop_size'])
        elif step['type'] == 'MultiScaleCrop':
            step['input_size'] = bench['crop_size']
        elif step['type'] in ('CenterCrop', 'TenCrop'):
            step = dict(type=test_crop or step['type'], crop_size=bench['crop_size'])
        out.append(step)
    return out


train_pipeline = _sized(_base_.train_pipeline, bench['num_clips'])
val_pipeline = _sized(_base_.val_pipeline, bench['val_clips'])
test_pipeline = _sized(_base_.test_pipeline, bench['test_clips'], bench['test_crop'])

train_dataloader = dict(batch_size=bench['batch_size'], dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=bench['batch_size'], dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(batch_size=bench['test_batch_size'], dataset=dict(pipeline=test_pipeline))

train_cfg = dict(max_epochs=bench['epochs'])
# the recipe's steps at 40% and 80% of training
param_scheduler = [dict(_base_.param_scheduler[0], end=bench['epochs'],
                        milestones=[round(bench['epochs'] * f) for f in (0.4, 0.8)])]
optim_wrapper = dict(optimizer=dict(lr=bench['lr']))
