// The lines SageMaker metric regexes read, printed as Hugging Face Trainer prints them:
// a Python dict (`{'loss': 0.6931, 'grad_norm': 1.23, 'learning_rate': 5e-05, 'epoch': 0.5}`,
// Python float repr) and `key = value` result blocks with plain numbers (eval_results.txt).
#ifndef TRAINRT_TRAINER_TRAINER_LOG_H_
#define TRAINRT_TRAINER_TRAINER_LOG_H_

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "runtime/process_env.h"

namespace trainrt::trainer {

using LogValue = std::variant<double, int64_t>;
using LogDict = std::vector<std::pair<std::string, LogValue>>;  // insertion order kept

// Python's round(x, digits): the double nearest to the correctly rounded decimal.
double PyRound(double x, int digits);
// str(dict) of the values: "{'loss': 0.6931, 'epoch': 1.0}".
std::string PythonDictLine(const LogDict& dict);
// "***** <title> *****" then "key = value" lines, keys sorted (as the example scripts write them).
std::string ResultsBlock(const std::string& title, const LogDict& dict);

// A failure the launcher reports: "trainrt-finetune: error: <message>" on stderr, and
// torchelastic's error file (TORCHELASTIC_ERROR_FILE, when set), whose message the launcher puts
// in the failure report.
void ReportFailure(const runtime::EnvMap& env, const std::string& message);
// A trainer_state.json log_history entry: the values unrounded (but epoch), then epoch and step,
// as Trainer.log records them.
nlohmann::json HistoryEntry(const LogDict& values, double epoch, int64_t step);

}  // namespace trainrt::trainer

#endif  // TRAINRT_TRAINER_TRAINER_LOG_H_
