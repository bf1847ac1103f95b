// trainrt-finetune: the built-in libtorch fine-tuner that `train` runs when a job names no program.
#include <cstdio>
#include <cstring>

#include "trainer/build_info.h"

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--version")) {
      std::printf("trainrt-finetune 0.1.0 (%s)\n",
                  trainrt::trainer::DescribeBuildInfo(trainrt::trainer::QueryBuildInfo()).c_str());
      return 0;
    }
  }
  // The fine-tuning loop is tracked in the trainer issue; until it lands, say so plainly.
  std::fprintf(stderr,
               "trainrt-finetune: the built-in fine-tuner is not available in this build yet; "
               "name your own entry point with SAGEMAKER_PROGRAM or sagemaker_program\n");
  return 3;
}
