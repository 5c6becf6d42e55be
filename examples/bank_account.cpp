// Seed 000, "동시성 문제 — 은행 출금" and its fix with Lock.
//
// The unsafe account keeps Python's check-then-act bug but is race-free in the C++ sense:
// the balance is an atomic, so the program is well-defined and the *logic* race shows:
// both threads pass the check, and the balance can go to -600. The safe account does the
// check and the withdrawal under one Lock (Python's `with self._lock:`), and ends at 200.
#include <pyconc/threading.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

namespace threading = pyconc::threading;
using namespace std::chrono_literals;

class UnsafeBankAccount {
 public:
  explicit UnsafeBankAccount(long balance) : balance_(balance) {}

  bool withdraw(long amount) {
    const std::string me = threading::current_thread().name();
    // 검증 단계
    if (balance_.load() < amount) {
      std::printf("[%s] 검증 실패: 잔액 %ld < 출금액 %ld\n", me.c_str(), balance_.load(), amount);
      return false;
    }
    // 출금 단계 — 검증과 출금 사이에 다른 스레드가 끼어들 수 있음!
    std::this_thread::sleep_for(1ms);  // DB 통신 등의 지연
    const long after = balance_.fetch_sub(amount) - amount;
    std::printf("[%s] 출금 성공: %ld원, 잔액: %ld\n", me.c_str(), amount, after);
    return true;
  }
  long balance() const { return balance_.load(); }

 private:
  std::atomic<long> balance_;
};

class BankAccount {
 public:
  explicit BankAccount(long balance) : balance_(balance) {}

  bool withdraw(long amount) {
    std::scoped_lock hold(lock_);  // 자바의 synchronized 블록에 해당
    const std::string me = threading::current_thread().name();
    if (balance_ < amount) {
      std::printf("[%s] 검증 실패\n", me.c_str());
      return false;
    }
    std::this_thread::sleep_for(1ms);
    balance_ -= amount;
    std::printf("[%s] 출금 성공: %ld원, 잔액: %ld\n", me.c_str(), amount, balance_);
    return true;
  }  // scope 벗어나면 자동으로 lock 해제
  long balance() {
    std::scoped_lock hold(lock_);
    return balance_;
  }

 private:
  threading::Lock lock_;  // 자바의 모니터 락에 해당
  long balance_;
};

template <class Account>
void run_two_withdrawals(Account& account) {
  threading::Thread t1({.name = "t1"}, [&] { account.withdraw(800); });
  threading::Thread t2({.name = "t2"}, [&] { account.withdraw(800); });
  t1.start();
  t2.start();
  t1.join();
  t2.join();
}

int main() {
  std::printf("== Lock 없음 ==\n");
  UnsafeBankAccount unsafe(1000);
  run_two_withdrawals(unsafe);
  std::printf("최종 잔액: %ld\n", unsafe.balance());
  std::printf("# 기대: 200원 (한 번만 성공해야 함) / 실제: -600원이 될 수 있음 (둘 다 검증 통과)\n");

  std::printf("== Lock 사용 ==\n");
  BankAccount safe(1000);
  run_two_withdrawals(safe);
  std::printf("최종 잔액: %ld\n", safe.balance());  // 항상 200원 (정상)
}
