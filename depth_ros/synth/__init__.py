"""Synthetic driving world with known depth and motion, written in the KITTI odometry layout.

A seeded procedural street (road with markings, kerbs, sidewalks, textured facades, parked cars,
poles, trees, sky) seen from a camera driving at 5-12 m/s at 10 Hz, rendered by vectorised ray
casting, anti-aliased (DEFAULT_SUPERSAMPLE rays a pixel side). Used to check that the
self-supervised networks learn, to train default weights and to evaluate against exact depth
and poses.

Public API:
    generate_sequence(out_dir, seed, frames, ...) -> SynthSequence: write a KITTI-layout sequence.
    render_sequence(seed, frames, ...): yield SynthFrame(rgb, depth_m, world_from_cam) in memory.
    synth_intrinsics(width, height): the camera's pinhole intrinsics.
    make_world / Renderer: the scene and trajectory of a seed, and rendering from any pose.

Modules: road (centreline), trajectory (camera motion), scene (objects), render (ray casting),
shading + materials + noise (appearance), world (seed -> scene + trajectory, Renderer), queue
(the same street with a traffic queue hiding the road ahead), writer (files), sequence
(generation on disk), arrays (gather/scatter and allocator helpers for speed).
"""
from depth_ros.synth.sequence import GENERATOR_VERSION, SynthSequence, generate_sequence
from depth_ros.synth.world import (
                                   DEFAULT_CAMERA_HEIGHT_M,
                                   DEFAULT_SUPERSAMPLE,
                                   Renderer,
                                   SynthFrame,
                                   SynthWorld,
                                   make_world,
                                   render_sequence,
                                   synth_intrinsics,
)


__all__ = [
    'DEFAULT_CAMERA_HEIGHT_M',
    'DEFAULT_SUPERSAMPLE',
    'GENERATOR_VERSION',
    'generate_sequence',
    'make_world',
    'render_sequence',
    'Renderer',
    'synth_intrinsics',
    'SynthFrame',
    'SynthSequence',
    'SynthWorld',
]
