# gant_sample against a real export: run it on the generator.gant that an example's fixture run
# wrote (same --seed and --threads), and require samples.idx identical to the run's own and a
# grid.png. Then hand it the run's checkpoint.gant (a training state, not a generator export):
# it must refuse with one sentence listing the examples it supports.
#
#   cmake -D SAMPLE=<gant_sample> -D RUN=<folder of the example run> -D SEED=<seed> -P check_gant_sample.cmake
set(out ${RUN}/gant_sample)
file(REMOVE_RECURSE ${out})
execute_process(COMMAND ${SAMPLE} --generator ${RUN}/generator.gant --n 16 --seed ${SEED} --threads 1 --out ${out}
                RESULT_VARIABLE rc OUTPUT_VARIABLE stdout ERROR_VARIABLE stderr)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "gant_sample failed (exit code ${rc}):\n${stdout}${stderr}")
endif()
if(NOT EXISTS ${out}/grid.png)
  message(FATAL_ERROR "gant_sample wrote no grid.png")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${out}/samples.idx ${RUN}/samples.idx RESULT_VARIABLE differ)
if(differ)
  message(FATAL_ERROR "gant_sample's samples.idx differs from the one the training run wrote (${out}, ${RUN})")
endif()

execute_process(COMMAND ${SAMPLE} --generator ${RUN}/checkpoint.gant --n 4 --out ${out}/refused
                RESULT_VARIABLE rc OUTPUT_VARIABLE stdout ERROR_VARIABLE stderr)
string(STRIP "${stderr}" stderr)
if(rc EQUAL 0 OR NOT stderr MATCHES "^gant_sample: .*checkpoint.gant is a gan training state; it reads generators exported by the examples \\(dcgan, .*gan_mlp.*\\)$")
  message(FATAL_ERROR "a training checkpoint was not refused with one sentence (exit code ${rc}):\n${stderr}")
endif()
message("${stdout}gant_sample reproduced the run's samples.idx and refused a training checkpoint")
