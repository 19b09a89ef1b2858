/* notify: the sd_notify(3) messages kcpvpnd sends, received on a datagram socket the test binds
 * and names in $NOTIFY_SOCKET, as systemd does for a Type=notify service. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"

static char sock_dir[64];
static char sock_path[96];
static int sock_fd = -1;

/* Binds a fresh datagram socket in a temporary directory (not yet named in the environment). */
static void listener_setup(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	unsetenv("NOTIFY_SOCKET");
	snprintf(sock_dir, sizeof(sock_dir), "/tmp/kcp-notify.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(sock_dir));
	snprintf(sock_path, sizeof(sock_path), "%s/notify", sock_dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
	sock_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(sock_fd, 0);
	ck_assert_int_eq(bind(sock_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
}

static void listener_teardown(void)
{
	unsetenv("NOTIFY_SOCKET");
	if (sock_fd >= 0)
		close(sock_fd);
	sock_fd = -1;
	unlink(sock_path);
	rmdir(sock_dir);
}

/* The next datagram as a string, or "" when none arrives within `wait_ms`. */
static const char *listener_recv(int wait_ms)
{
	static char buf[512];
	struct pollfd pfd = {.fd = sock_fd, .events = POLLIN};
	ssize_t n;

	buf[0] = '\0';
	if (poll(&pfd, 1, wait_ms) != 1)
		return buf;
	n = recv(sock_fd, buf, sizeof(buf) - 1, 0);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	return buf;
}

static unsigned long long now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000;
}

START_TEST(notify_sends_nothing_and_returns_0_without_notify_socket)
{
	ck_assert_int_eq(notify_ready(), 0);
	ck_assert_int_eq(notify_reloading(), 0);
	ck_assert_int_eq(notify_stopping(), 0);
	ck_assert_str_eq(listener_recv(100), "");
}
END_TEST

START_TEST(notify_ready_sends_ready_1)
{
	setenv("NOTIFY_SOCKET", sock_path, 1);
	ck_assert_int_eq(notify_ready(), 1);
	ck_assert_str_eq(listener_recv(2000), "READY=1");
}
END_TEST

START_TEST(notify_stopping_sends_stopping_1)
{
	setenv("NOTIFY_SOCKET", sock_path, 1);
	ck_assert_int_eq(notify_stopping(), 1);
	ck_assert_str_eq(listener_recv(2000), "STOPPING=1");
}
END_TEST

START_TEST(notify_reloading_sends_reloading_1_with_the_current_monotonic_time)
{
	unsigned long long before, after, usec = 0;
	const char *msg;
	int used = 0;

	setenv("NOTIFY_SOCKET", sock_path, 1);
	before = now_usec();
	ck_assert_int_eq(notify_reloading(), 1);
	after = now_usec();
	msg = listener_recv(2000);
	ck_assert_msg(sscanf(msg, "RELOADING=1\nMONOTONIC_USEC=%llu%n", &usec, &used) == 1,
		      "got \"%s\"", msg);
	ck_assert_int_eq(msg[used], '\0');
	ck_assert(usec >= before && usec <= after);
}
END_TEST

START_TEST(notify_reload_sequence_arrives_in_order)
{
	setenv("NOTIFY_SOCKET", sock_path, 1);
	ck_assert_int_eq(notify_ready(), 1);
	ck_assert_int_eq(notify_reloading(), 1);
	ck_assert_int_eq(notify_ready(), 1);
	ck_assert_int_eq(notify_stopping(), 1);
	ck_assert_str_eq(listener_recv(2000), "READY=1");
	ck_assert(strncmp(listener_recv(2000), "RELOADING=1\n", 12) == 0);
	ck_assert_str_eq(listener_recv(2000), "READY=1");
	ck_assert_str_eq(listener_recv(2000), "STOPPING=1");
	ck_assert_str_eq(listener_recv(100), "");
}
END_TEST

START_TEST(notify_returns_negative_errno_when_nobody_listens)
{
	char gone[128];

	/* a path with no socket behind it: sending fails, and the caller hears why */
	snprintf(gone, sizeof(gone), "%s/nobody", sock_dir);
	setenv("NOTIFY_SOCKET", gone, 1);
	ck_assert_int_eq(notify_ready(), -ENOENT);
	ck_assert_int_lt(notify_stopping(), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("notify");
	SRunner *sr;
	int failed;

	log_init("test_notify", true, LOG_LEVEL_ERROR);
	tcase_add_checked_fixture(tc, listener_setup, listener_teardown);
	tcase_add_test(tc, notify_sends_nothing_and_returns_0_without_notify_socket);
	tcase_add_test(tc, notify_ready_sends_ready_1);
	tcase_add_test(tc, notify_stopping_sends_stopping_1);
	tcase_add_test(tc, notify_reloading_sends_reloading_1_with_the_current_monotonic_time);
	tcase_add_test(tc, notify_reload_sequence_arrives_in_order);
	tcase_add_test(tc, notify_returns_negative_errno_when_nobody_listens);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
