// train.hpp — the training loop (train::run) and what it is made of.
#pragma once

#include "train/csv_log.hpp"      // train::CsvLog, read_csv: the per-epoch log
#include "train/loop.hpp"         // train::run, Task, Options: budget, checkpoints, resume, early stopping
#include "train/module_task.hpp"  // train::ModuleTask: checkpoints of an nn::Module and its Adam
#include "train/progress.hpp"     // train::ProgressLine: one self-rewriting line on a terminal
#include "train/stop_signal.hpp"  // train::StopSignalGuard: SIGINT/SIGTERM finish the step and save
