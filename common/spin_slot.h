// SpinSlot: the right to spin (on a CQ, on a socket awaiting an answer). A
// process lets as many threads spin at once as it has cores to run on; a waiter
// that finds them all taken sleeps at once. More spinners than cores only take
// the CPU from the threads whose work they wait for (on a software provider
// such as rxe, also from the kernel's transport, which runs in the posters'
// system calls): measured with 2 ping-pong pairs on 2 vCPUs, spinning waiters
// doubled the CPU per round trip and halved the round trips per second.
#ifndef SWIFT_COMMON_SPIN_SLOT_H_
#define SWIFT_COMMON_SPIN_SLOT_H_

namespace swift {

class SpinSlot {
 public:
  // Takes a slot if one is free; taken() says whether it did.
  static SpinSlot TryTake();

  SpinSlot(SpinSlot&& other) : taken_(other.taken_) { other.taken_ = false; }
  SpinSlot& operator=(SpinSlot&&) = delete;
  SpinSlot(const SpinSlot&) = delete;
  ~SpinSlot();

  bool taken() const { return taken_; }

  // The slots there are: the cores this process may run on (at first use).
  static int Capacity();

 private:
  explicit SpinSlot(bool taken) : taken_(taken) {}
  bool taken_;
};

// Yields the core to another runnable thread, if there is one, every
// kPollsPerYield polls of a spinning waiter; `polls` counts them.
void MaybeYield(int polls);
constexpr int kPollsPerYield = 64;

}  // namespace swift

#endif  // SWIFT_COMMON_SPIN_SLOT_H_
