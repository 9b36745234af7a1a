# Hostile checkpoints and flags, through the shared trainer (trainer.hpp) as a user meets them.
#
#   1. A short real run writes checkpoint.gant and generator.gant.
#   2. forge_checkpoint rewrites the checkpoint with one impossible value behind a valid checksum;
#      --resume must refuse each with exit code 1 and one sentence naming the record, write no
#      output, and leave the forged file byte for byte as it was.
#      A fresh run of another family (OTHER) into the same folder must refuse to replace it.
#   3. gant_sample must refuse a generator export with a NaN weight the same way, and gant_eval
#      (EVAL) a metrics classifier with one.
#   4. Flags with NaN, a negative whole number or an overflowing one must be refused with exit
#      code 2 and one sentence.
#
#   cmake -D EXE=<wgan_gp> -D FORGE=<forge_checkpoint> -D SAMPLE=<gant_sample> -D OUT=<scratch>
#         [-D OTHER=<another family's program>] [-D EVAL=<gant_eval> -D CLASSIFIER=<its weights>]
#         [-D DATA=<dataset folder>] -P check_hostile_checkpoint.cmake
if(NOT DATA)
  set(DATA /usr/share/datasets/fashion-mnist)
endif()
if(NOT EXISTS ${DATA}/train-images-idx3-ubyte.gz AND NOT EXISTS ${DATA}/train-images-idx3-ubyte)
  message("SKIPPED: no Fashion-MNIST in ${DATA} (apt-get install dataset-fashion-mnist)")
  return()
endif()
file(REMOVE_RECURSE ${OUT})
get_filename_component(exe_name ${EXE} NAME)
set(common --data ${DATA} --limit 64 --samples 4 --threads 1 --quiet)

# expect_refusal(<expected exit code> <regex for the one stderr line> command...)
function(expect_refusal expected_rc pattern)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(REGEX REPLACE "\n$" "" line "${err}")
  if(NOT rc STREQUAL "${expected_rc}" OR line MATCHES "\n" OR NOT line MATCHES "${pattern}")
    message(FATAL_ERROR "${ARGN}\n  exit code ${rc} (expected ${expected_rc}), stderr:\n${err}\n"
                        "  expected one line matching: ${pattern}")
  endif()
endfunction()

# 1. A real run.
execute_process(COMMAND ${EXE} ${common} --steps 2 --batch 8 --out ${OUT}/run RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "the fixture run failed (exit code ${rc}):\n${err}")
endif()

# 2. Forged checkpoints. Each entry: name|edit[,edit]|regex of the sentence after "<exe>: <file>: "
# (no square brackets in the entries: an unbalanced one stops CMake's list splitting).
set(forgeries
    "batch_0|u64:extra/hyper/batch=0|record 'hyper/batch' holds 0, but it must be a whole number from 2 to 65536$"
    "batch_2p63|u64:extra/hyper/batch=9223372036854775808|record 'hyper/batch' holds 9223372036854775808, but it must be a whole number from 2 to 65536$"
    "n_critic_2p40|u64:extra/hyper/n_critic=1099511627776|record 'hyper/n_critic' holds 1099511627776, but it must be a whole number from 1 to 1000$"
    "lr_inf|f64:extra/hyper/lr_generator=inf|record 'hyper/lr_generator' holds inf, but it must be a finite number in .1e-12, 10.$"
    "ema_nan|u64:extra/hyper/ema=1,f64:extra/hyper/ema_decay=nan|record 'hyper/ema_decay' holds nan, but it must be a finite number in .0, 1\\)$"
    "beta2_1|f64:extra/hyper/beta2=1|record 'hyper/beta2' holds 1, but it must be a finite number in .0, 1\\)$"
    "eps_0|f64:extra/hyper/eps=0|holds hyper-parameters gant refuses: hyper_parameters.eps is 0, but it must be finite and > 0$"
    "lambda_negative|f64:extra/policy/lambda=-1|record 'policy/lambda' holds -1, but it must be a finite number in .0, 1e\\+06.$"
    "seconds_nan|f64:extra/seconds=nan|record 'seconds' holds nan"
    "weight_nan|fill:generator/4/weight=nan|record 'generator/4/weight' holds a non-finite value"
    "adam_state_inf|fill:optim/critic/0.exp_avg_sq=inf|record 'optim/critic/0\\.exp_avg_sq' holds a non-finite value")
foreach(entry IN LISTS forgeries)
  string(REPLACE "|" ";" parts "${entry}")
  list(GET parts 0 name)
  list(GET parts 1 edits)
  list(GET parts 2 pattern)
  string(REPLACE "," ";" edits "${edits}")
  set(forged ${OUT}/${name}.gant)
  execute_process(COMMAND ${FORGE} ${OUT}/run/checkpoint.gant ${forged} ${edits} RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "forge_checkpoint ${name} failed:\n${err}")
  endif()
  file(SHA256 ${forged} before)
  expect_refusal(1 "^${exe_name}: [^\n]*${name}\\.gant: ${pattern}"
                 ${EXE} ${common} --steps 3 --resume ${forged} --out ${OUT}/resumed_${name})
  file(SHA256 ${forged} after)
  if(NOT before STREQUAL after)
    message(FATAL_ERROR "the refused run changed ${forged}")
  endif()
  foreach(output grid.png samples.idx metrics.csv checkpoint.gant generator.gant)
    if(EXISTS ${OUT}/resumed_${name}/${output})
      message(FATAL_ERROR "the refused run (${name}) wrote ${output}")
    endif()
  endforeach()
endforeach()

# 2b. A fresh run of another family into the same folder must not replace this run's checkpoint.
if(OTHER)
  get_filename_component(other_name ${OTHER} NAME)
  file(SHA256 ${OUT}/run/checkpoint.gant before)
  expect_refusal(1 "^${other_name}: [^\n]*run/checkpoint.gant holds a ${exe_name} run, which this run would replace"
                 ${OTHER} ${common} --steps 1 --batch 8 --out ${OUT}/run)
  file(SHA256 ${OUT}/run/checkpoint.gant after)
  if(NOT before STREQUAL after)
    message(FATAL_ERROR "${other_name} replaced ${exe_name}'s checkpoint")
  endif()
endif()

# 3. A generator export with a NaN weight.
execute_process(COMMAND ${FORGE} ${OUT}/run/generator.gant ${OUT}/generator_nan.gant fill:generator/0/bias=nan
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "forge_checkpoint generator_nan failed:\n${err}")
endif()
expect_refusal(1 "^gant_sample: [^\n]*generator_nan\\.gant: record 'generator/0/bias' holds a non-finite value"
               ${SAMPLE} --generator ${OUT}/generator_nan.gant --n 4 --out ${OUT}/sampled)
if(EXISTS ${OUT}/sampled/samples.idx)
  message(FATAL_ERROR "gant_sample wrote samples from a generator with a NaN weight")
endif()

# 3b. The metrics classifier with a NaN weight: gant_eval must not report a score from it.
if(EVAL AND CLASSIFIER)
  execute_process(COMMAND ${FORGE} ${CLASSIFIER} ${OUT}/classifier_nan.gant fill:head/0/weight=nan
                  RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "forge_checkpoint classifier_nan failed:\n${err}")
  endif()
  expect_refusal(1 "^gant_eval: [^\n]*classifier_nan\\.gant: record 'head/0/weight' holds a non-finite value"
                 ${EVAL} --floor --n 10 --threads 1 --classifier ${OUT}/classifier_nan.gant)
endif()

# 4. Numeric flags CLI11's own checks let through.
foreach(flags "--minutes;nan" "--ema;nan" "--lambda;nan" "--lr-g;inf" "--seed;-1" "--checkpoint-every;-1"
              "--seed;18446744073709551616" "--batch;1e3" "--steps;-5")
  list(GET flags 0 flag)
  expect_refusal(2 "^${exe_name}: ${flag}: must be a (finite|whole) number [^\n]*, not '[^\n]*' \\(see ${exe_name} --help\\)$"
                 ${EXE} ${common} ${flags} --out ${OUT}/flags)
endforeach()

file(REMOVE_RECURSE ${OUT})
message("every forged checkpoint and bad flag was refused with one sentence, and no file was changed")
