"""Facts of the Kinect v1 datasets: action names (label i = action number i + 1) and frame rate.
No imports: the suite files are read (bench/suites.py) when `bench list` runs."""

# UTD-MHAD (Chen, Jafari, Kehtarnavaz, ICIP 2015): a1..a27, as on the dataset's web page.
UTD_MHAD_ACTIONS = (
    "right arm swipe to the left", "right arm swipe to the right", "right hand wave",
    "two hand front clap", "right arm throw", "cross arms in the chest", "basketball shoot",
    "right hand draw x", "right hand draw circle (clockwise)",
    "right hand draw circle (counter clockwise)", "draw triangle", "bowling (right hand)",
    "front boxing", "baseball swing from right", "tennis right hand forehand swing",
    "arm curl (two arms)", "tennis serve", "two hand push", "right hand knock on door",
    "right hand catch an object", "right hand pick up and throw", "jogging in place",
    "walking in place", "sit to stand", "stand to sit", "forward lunge (left foot forward)",
    "squat (two arms stretch out)",
)

# MSR Action3D (Li, Zhang, Liu, CVPRW 2010): a01..a20.
MSR_ACTION3D_ACTIONS = (
    "high arm wave", "horizontal arm wave", "hammer", "hand catch", "forward punch", "high throw",
    "draw x", "draw tick", "draw circle", "hand clap", "two hand wave", "side boxing", "bend",
    "forward kick", "side kick", "jogging", "tennis swing", "tennis serve", "golf swing",
    "pick up and throw",
)

# The frame rates the datasets were recorded at (MSR Action3D: depth and skeletons at 15 fps).
FPS = {"utd-mhad": 30.0, "msr-action3d": 15.0}
ACTIONS = {"utd-mhad": UTD_MHAD_ACTIONS, "msr-action3d": MSR_ACTION3D_ACTIONS}
