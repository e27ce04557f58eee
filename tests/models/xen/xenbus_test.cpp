/* Specification of the xenbus state machine: which transitions each end may take, and their record. */
#include "models/xen/xenbus.hpp"

#include "models/xen/xenstore.hpp"

#include <gtest/gtest.h>

using namespace pvsim::xen;
using S = XenbusState;

namespace {

constexpr auto front = XenbusRole::frontend;
constexpr auto back  = XenbusRole::backend;

} // namespace

TEST(XenbusState, ValuesAreThoseOfXenbusH)
{
  EXPECT_EQ(static_cast<int>(S::Unknown), 0);
  EXPECT_EQ(static_cast<int>(S::Initialising), 1);
  EXPECT_EQ(static_cast<int>(S::InitWait), 2);
  EXPECT_EQ(static_cast<int>(S::Initialised), 3);
  EXPECT_EQ(static_cast<int>(S::Connected), 4);
  EXPECT_EQ(static_cast<int>(S::Closing), 5);
  EXPECT_EQ(static_cast<int>(S::Closed), 6);
  EXPECT_EQ(static_cast<int>(S::Reconfiguring), 7);
  EXPECT_EQ(static_cast<int>(S::Reconfigured), 8);
}

TEST(XenbusState, NamesAreThoseOfXenbusStrstate)
{
  EXPECT_EQ(to_string(S::InitWait), "InitWait");
  EXPECT_EQ(to_string(S::Reconfigured), "Reconfigured");
}

TEST(XenbusState, ParsesStoredValues)
{
  EXPECT_EQ(parse_xenbus_state("4"), S::Connected);
  EXPECT_EQ(parse_xenbus_state(" 6\n"), S::Closed);
  EXPECT_FALSE(parse_xenbus_state("9"));
  EXPECT_FALSE(parse_xenbus_state("connected"));
  EXPECT_FALSE(parse_xenbus_state(""));
}

TEST(XenbusTransitions, BlkfrontStartupIsLegal)
{
  EXPECT_TRUE(is_legal_transition(front, S::Unknown, S::Initialising));
  EXPECT_TRUE(is_legal_transition(front, S::Initialising, S::Initialised));
  EXPECT_TRUE(is_legal_transition(front, S::Initialised, S::Connected));
}

TEST(XenbusTransitions, NetfrontMaySkipInitialised)
{
  EXPECT_TRUE(is_legal_transition(front, S::Initialising, S::Connected));
}

TEST(XenbusTransitions, BackendStartupGoesThroughInitWait)
{
  EXPECT_TRUE(is_legal_transition(back, S::Initialising, S::InitWait));
  EXPECT_TRUE(is_legal_transition(back, S::InitWait, S::Connected));
  EXPECT_FALSE(is_legal_transition(back, S::Initialising, S::Connected));
}

TEST(XenbusTransitions, AFrontendNeverWaitsInInitWait)
{
  EXPECT_FALSE(is_legal_transition(front, S::Initialising, S::InitWait));
  EXPECT_FALSE(is_legal_transition(front, S::Connected, S::Reconfigured));
}

TEST(XenbusTransitions, NothingGoesBackwardsDuringStartup)
{
  EXPECT_FALSE(is_legal_transition(back, S::Connected, S::InitWait));
  EXPECT_FALSE(is_legal_transition(front, S::Connected, S::Initialised));
  EXPECT_FALSE(is_legal_transition(back, S::InitWait, S::Initialising));
}

TEST(XenbusTransitions, EitherEndMayCloseFromAnyLiveState)
{
  for (auto role : {front, back})
    for (auto from : {S::Initialising, S::InitWait, S::Initialised, S::Connected, S::Reconfiguring})
      EXPECT_TRUE(is_legal_transition(role, from, S::Closing)) << to_string(from);
  EXPECT_TRUE(is_legal_transition(front, S::Connected, S::Closed)); // xenbus_frontend_closed()
  EXPECT_TRUE(is_legal_transition(back, S::Closing, S::Closed));
}

TEST(XenbusTransitions, AClosedDeviceMayReconnect)
{
  EXPECT_TRUE(is_legal_transition(front, S::Closed, S::Initialising));
  EXPECT_TRUE(is_legal_transition(back, S::Closed, S::InitWait));
  EXPECT_FALSE(is_legal_transition(front, S::Closed, S::Connected));
}

TEST(XenbusTransitions, ResumeResetsTheFrontendToInitialising)
{
  EXPECT_TRUE(is_legal_transition(front, S::Connected, S::Initialising));
  EXPECT_FALSE(is_legal_transition(back, S::Connected, S::Initialising));
}

TEST(XenbusTransitions, ReconfigurationIsAnExchange)
{
  EXPECT_TRUE(is_legal_transition(front, S::Connected, S::Reconfiguring));
  EXPECT_TRUE(is_legal_transition(back, S::Connected, S::Reconfigured));
  EXPECT_TRUE(is_legal_transition(front, S::Reconfiguring, S::Connected));
  EXPECT_TRUE(is_legal_transition(back, S::Reconfiguring, S::Reconfigured));
  EXPECT_FALSE(is_legal_transition(front, S::Initialised, S::Reconfiguring));
}

TEST(XenbusTransitions, UnknownIsOnlyBeforeCreationAndAfterRemoval)
{
  EXPECT_FALSE(is_legal_transition(back, S::Unknown, S::Connected));
  EXPECT_FALSE(is_legal_transition(back, S::Connected, S::Unknown));
  EXPECT_TRUE(is_legal_transition(back, S::Closed, S::Unknown));
}

TEST(XenbusStateMachine, RecordsEachTransitionWithItsTime)
{
  XenbusStateMachine m(back, "", S::Initialising);
  ASSERT_TRUE(m.switch_state(S::InitWait, 1.5));
  ASSERT_TRUE(m.switch_state(S::Connected, 2.25));
  ASSERT_EQ(m.history().size(), 2u);
  EXPECT_EQ(m.history()[0].time, 1.5);
  EXPECT_EQ(m.history()[0].from, S::Initialising);
  EXPECT_EQ(m.history()[1].to, S::Connected);
  EXPECT_EQ(m.last_change(), 2.25);
}

TEST(XenbusStateMachine, RefusesAnIllegalTransitionAndStaysPut)
{
  XenbusStateMachine m(back);
  EXPECT_FALSE(m.switch_state(S::Connected, 1.0));
  EXPECT_EQ(m.state(), S::Initialising);
  EXPECT_TRUE(m.history().empty());
  EXPECT_FALSE(m.can_switch(S::Connected));
}

TEST(XenbusStateMachine, SwitchingToTheCurrentStateIsANoOp)
{
  XenbusStateMachine m(front);
  EXPECT_TRUE(m.switch_state(S::Initialising, 1.0));
  EXPECT_TRUE(m.history().empty());
}

TEST(XenbusStateMachine, RefusesTimeGoingBackwards)
{
  XenbusStateMachine m(front);
  ASSERT_TRUE(m.switch_state(S::Initialised, 5.0));
  EXPECT_FALSE(m.switch_state(S::Connected, 4.0));
  EXPECT_EQ(m.state(), S::Initialised);
}

TEST(XenbusStateMachine, MirrorsTheStateNodeIntoTheStore)
{
  XenStore s;
  XenbusStateMachine m(front, "/local/domain/1/device/vbd/51712");
  ASSERT_TRUE(m.switch_state(S::Initialised, 1.0, s));
  EXPECT_EQ(s.read("/local/domain/1/device/vbd/51712/state"), "3");
  EXPECT_FALSE(m.switch_state(S::InitWait, 2.0, s));
  EXPECT_EQ(s.read("/local/domain/1/device/vbd/51712/state"), "3");
}
