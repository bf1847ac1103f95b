// The stop request SageMaker sends (SIGTERM; SIGINT from a terminal): the training loop polls
// StopRequested() after each optimizer step, writes a checkpoint and exits 0. A second SIGTERM or
// SIGINT, or `deadline_seconds` after the first, ends the process at once (exit 128 + signal, or
// 124 for the deadline) with a line on stderr saying why.
#ifndef TRAINRT_TRAINER_STOP_SIGNAL_H_
#define TRAINRT_TRAINER_STOP_SIGNAL_H_

namespace trainrt::trainer {

void InstallStopHandlers(unsigned deadline_seconds);
bool StopRequested();
int StopSignal();  // the signal that asked, 0 when none

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_STOP_SIGNAL_H_
