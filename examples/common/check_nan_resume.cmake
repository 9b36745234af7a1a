# The NaN guard end to end, through the shared trainer (trainer.hpp), as a user meets it:
#
#   1. a run that checkpoints every 2 steps gets a NaN in its data at step 5 (--inject-nan-at,
#      a hidden test flag): it must stop with exit code 1 and one sentence naming the step, the
#      value that went bad and the last good checkpoint (step 4);
#   2. --resume from that checkpoint must run to the end, and its samples.idx must equal the
#      samples of a run that never saw the NaN: the checkpoint holds the good step-4 state.
#
#   cmake -D EXE=<example> -D OUT=<scratch folder> [-D DATA=<dataset folder>] -P check_nan_resume.cmake
if(NOT DATA)
  set(DATA /usr/share/datasets/fashion-mnist)
endif()
if(NOT EXISTS ${DATA}/train-images-idx3-ubyte.gz AND NOT EXISTS ${DATA}/train-images-idx3-ubyte)
  message("SKIPPED: no Fashion-MNIST in ${DATA} (apt-get install dataset-fashion-mnist)")
  return()
endif()
file(REMOVE_RECURSE ${OUT})
set(common --data ${DATA} --batch 8 --limit 64 --samples 16 --threads 1 --checkpoint-every 2 --seed 3)

function(run_example expected_rc)
  execute_process(COMMAND ${EXE} ${common} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL expected_rc)
    message(FATAL_ERROR "${EXE} ${ARGN}: exit code ${rc}, expected ${expected_rc}\n${out}${err}")
  endif()
  set(stderr_text "${err}" PARENT_SCOPE)
endfunction()

# 1. Diverge at step 5.
run_example(1 --steps 6 --quiet --out ${OUT}/diverged --inject-nan-at 5)
string(STRIP "${stderr_text}" sentence)
get_filename_component(exe_name ${EXE} NAME)
set(expected "^${exe_name}: step 5: the critic loss is NaN; training stopped; the last good checkpoint, from step 4, is .*diverged/checkpoint.gant$")
if(NOT sentence MATCHES "${expected}")
  message(FATAL_ERROR "unexpected message after the NaN:\n  ${sentence}\nexpected to match:\n  ${expected}")
endif()
if(EXISTS ${OUT}/diverged/samples.idx)
  message(FATAL_ERROR "the diverged run wrote samples.idx after the NaN; nothing should be written after it")
endif()

# 2. Resume from the last good checkpoint and compare with a run that never diverged.
run_example(0 --steps 6 --out ${OUT}/diverged --resume ${OUT}/diverged/checkpoint.gant)
if(NOT stderr_text MATCHES "resuming from step 4")
  message(FATAL_ERROR "the resumed run did not start from step 4:\n${stderr_text}")
endif()
run_example(0 --steps 6 --quiet --out ${OUT}/clean)
file(SHA256 ${OUT}/diverged/samples.idx resumed_hash)
file(SHA256 ${OUT}/clean/samples.idx clean_hash)
if(NOT resumed_hash STREQUAL clean_hash)
  message(FATAL_ERROR "samples.idx after resuming differs from the run without the NaN (outputs in ${OUT})")
endif()
file(REMOVE_RECURSE ${OUT})
message("the NaN at step 5 stopped the run with one sentence; resuming from step 4 reproduced the clean run")
