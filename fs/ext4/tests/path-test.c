// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of which files take the iomap buffered I/O path, and of the
 * buffered_iomap and nobuffered_iomap mount options.
 *
 * A regular file is put on the iomap path when its inode is set up (read
 * from disk or created) on a mount with buffered_iomap, unless the file or
 * the filesystem needs buffer_heads: data=journal, no extents feature, the
 * inline_data, encrypt or verity feature, a non-extent file, or a file with
 * the data journalling flag.  Only a change of that flag moves a cached
 * inode; a remount that changes the option reaches an inode once it is
 * evicted and read again.  Operations that need buffer_heads (conversion to
 * indirect blocks, online defragmentation) refuse iomap inodes.
 *
 * Cases that start from the mount's path run on every geometry and both
 * paths (ext4_kunit_configs), each from its own path to the other where
 * they switch, with the expectation of each path stated.  Cases that choose
 * the options themselves (their order, mounting as ext3) run once per
 * geometry.  Cases that move files between paths clear fs->check_path and
 * assert the path of each file themselves.
 *
 * Kernel messages are checked where they are the only visible effect (the
 * warning that buffered_iomap has no effect, the reason a mount or a move is
 * refused): the records logged since a mark are read back with
 * kmsg_dump_get_line().
 */
#include <kunit/test.h>
#include <linux/delayed_call.h>
#include <linux/file.h>
#include <linux/fs_context.h>
#include <linux/fs_struct.h>
#include <linux/kmsg_dump.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "fixture.h"
#include "../ext4_jbd2.h"

/* The node the fixture mounts ram0 from (RAMDISK_PATH in fixture.c). */
#define RAMDISK_PATH	"/ext4-kunit-ram0"

#define LOG_LINE_MAX	512

KUNIT_ARRAY_PARAM_DESC(config, ext4_kunit_configs, name);
KUNIT_ARRAY_PARAM_DESC(geometry, ext4_kunit_geometries, name);

KUNIT_DEFINE_ACTION_WRAPPER(dput_action, dput, struct dentry *);

static const struct ext4_kunit_config *cfg(struct kunit *test)
{
	return test->param_value;
}

static bool cfg_iomap(struct kunit *test)
{
	return cfg(test)->path == EXT4_KUNIT_IOMAP;
}

static bool cfg_bigalloc(struct kunit *test)
{
	return cfg(test)->geo->clustersize != cfg(test)->geo->blocksize;
}

/* The buffer_head configuration of a geometry: its options say the rest. */
static const struct ext4_kunit_config *bh_config(struct kunit *test)
{
	const struct ext4_kunit_geometry *geo = test->param_value;
	int i;

	for (i = 0; i < EXT4_KUNIT_NR_CONFIGS; i++)
		if (ext4_kunit_configs[i].geo == geo &&
		    ext4_kunit_configs[i].path == EXT4_KUNIT_BH)
			return &ext4_kunit_configs[i];
	KUNIT_FAIL_AND_ABORT(test, "no buffer_head configuration for %s",
			     geo->name);
	return NULL;
}

static const char *path_name(bool iomap)
{
	return iomap ? "iomap" : "buffer_head";
}

/*
 * Assert that @inode (@name) is on the iomap path or not: its state, and the
 * address space operations it got for it.  The iomap aops are the only ones
 * with ext4_iomap_read_folio() and ext4_iomap_writepages().
 */
static void assert_path(struct kunit *test, struct inode *inode,
			const char *name, bool iomap)
{
	const struct address_space_operations *aops = inode->i_mapping->a_ops;

	KUNIT_ASSERT_EQ_MSG(test, ext4_inode_buffered_iomap(inode), iomap,
			    "%s is on the %s path, expected %s", name,
			    ext4_kunit_path_name(inode), path_name(iomap));
	KUNIT_ASSERT_EQ_MSG(test, aops->read_folio == ext4_iomap_read_folio,
			    iomap, "%s: read_folio is %ps, expected the %s one",
			    name, aops->read_folio, path_name(iomap));
	KUNIT_ASSERT_EQ_MSG(test, aops->writepages == ext4_iomap_writepages,
			    iomap, "%s: writepages is %ps, expected the %s one",
			    name, aops->writepages, path_name(iomap));
}

static void assert_file_path(struct kunit *test, struct file *file,
			     const char *name, bool iomap)
{
	assert_path(test, file_inode(file), name, iomap);
}

static u8 *alloc_buf(struct kunit *test, size_t len)
{
	u8 *buf = kunit_kzalloc(test, len, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	return buf;
}

static void write_pattern(struct ext4_kunit_fs *fs, struct file *file,
			  u8 seed, loff_t pos, size_t len)
{
	u8 *buf = alloc_buf(fs->test, len);

	ext4_kunit_fill(buf, seed, pos, len);
	ext4_kunit_write(fs, file, pos, buf, len);
	kunit_kfree(fs->test, buf);
}

/* Expect [@pos, @pos + @len) of @file to read as the pattern of @seed. */
static void expect_pattern(struct ext4_kunit_fs *fs, struct file *file,
			   u8 seed, loff_t pos, size_t len, const char *what)
{
	struct kunit *test = fs->test;
	u8 *buf = alloc_buf(test, len);
	size_t i, got;

	got = ext4_kunit_read(fs, file, pos, buf, len);
	KUNIT_EXPECT_EQ_MSG(test, got, len, "%s: short read at %lld", what,
			    pos);
	for (i = 0; i < got; i++) {
		u8 want = ext4_kunit_pattern(seed, pos + i);

		if (buf[i] != want) {
			KUNIT_FAIL(test, "%s: byte %lld is %#x, expected %#x",
				   what, pos + i, buf[i], want);
			break;
		}
	}
	kunit_kfree(test, buf);
}

/* The whole file is [0, @size) written with @seed. */
static void expect_file(struct ext4_kunit_fs *fs, struct file *file, u8 seed,
			loff_t size, const char *what)
{
	KUNIT_EXPECT_EQ_MSG(fs->test, i_size_read(file_inode(file)), size,
			    "%s: i_size", what);
	expect_pattern(fs, file, seed, 0, size, what);
}

/* @size bytes of @file that read as zeros. */
static void expect_zeros(struct ext4_kunit_fs *fs, struct file *file,
			 size_t size, const char *what)
{
	u8 *buf = alloc_buf(fs->test, size);
	const u8 *bad;

	KUNIT_EXPECT_EQ_MSG(fs->test, ext4_kunit_read(fs, file, 0, buf, size),
			    size, "%s: short read", what);
	bad = memchr_inv(buf, 0, size);
	if (bad)
		KUNIT_FAIL(fs->test, "%s: byte %td is %#x, expected zero", what,
			   bad - buf, *bad);
	kunit_kfree(fs->test, buf);
}

/* @n blocks of state @c, then one not mapped: an ext4_kunit_extent_map(). */
static char *map_of(struct kunit *test, char c, unsigned int n)
{
	char *map = kunit_kzalloc(test, n + 2, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, map);
	memset(map, c, n);
	map[n] = '.';
	return map;
}

/*
 * Everything written back, no delayed allocation reservation left over by
 * a file that changed path, and no error recorded.
 */
static void expect_fs_clean(struct ext4_kunit_fs *fs, const char *when)
{
	struct ext4_sb_info *sbi = EXT4_SB(fs->mnt->mnt_sb);

	ext4_kunit_sync_fs(fs);
	KUNIT_EXPECT_EQ_MSG(fs->test,
			    percpu_counter_sum(&sbi->s_dirtyclusters_counter),
			    0LL, "%s: delayed allocation clusters reserved after sync",
			    when);
	KUNIT_EXPECT_FALSE_MSG(fs->test, sbi->s_mount_state & EXT4_ERROR_FS,
			       "%s: ext4 recorded an error", when);
}

/* Start of the kernel messages to look at with logged_since(). */
static u64 log_mark(void)
{
	struct kmsg_dump_iter iter;

	kmsg_dump_rewind(&iter);
	return iter.next_seq;
}

/*
 * Whether an ext4 message logged since @mark contains @needle.  Only lines of
 * ext4 count: a failed expectation of this test, logged too, may quote
 * @needle.
 */
static bool logged_since(struct kunit *test, u64 mark, const char *needle)
{
	struct kmsg_dump_iter iter = { .cur_seq = mark };
	char *line = alloc_buf(test, LOG_LINE_MAX + 1);
	bool found = false;
	size_t len;

	while (!found &&
	       kmsg_dump_get_line(&iter, false, line, LOG_LINE_MAX, &len)) {
		line[min_t(size_t, len, LOG_LINE_MAX)] = '\0';
		found = strstr(line, "EXT4-fs") && strstr(line, needle);
	}
	kunit_kfree(test, line);
	return found;
}

/* The mount's options as /proc/mounts shows them (",opt1,opt2=val"). */
static char *show_options(struct ext4_kunit_fs *fs)
{
	struct super_block *sb = fs->mnt->mnt_sb;
	struct seq_file m = { .size = PAGE_SIZE };

	m.buf = alloc_buf(fs->test, m.size + 1);
	KUNIT_ASSERT_EQ(fs->test, sb->s_op->show_options(&m, sb->s_root), 0);
	KUNIT_ASSERT_FALSE(fs->test, seq_has_overflowed(&m));
	m.buf[m.count] = '\0';
	return m.buf;
}

/* Whether @opts (",opt1,opt2=val") holds @opt as a whole option. */
static bool has_option(struct kunit *test, const char *opts, const char *opt)
{
	char *copy = kunit_kstrdup(test, opts, GFP_KERNEL);
	char *p = copy, *tok;
	bool found = false;

	KUNIT_ASSERT_NOT_NULL(test, copy);
	while ((tok = strsep(&p, ",")) != NULL)
		if (!strcmp(tok, opt))
			found = true;
	kunit_kfree(test, copy);
	return found;
}

/*
 * The option shows in the mount's options exactly when it is set, as
 * "buffered_iomap"; "nobuffered_iomap" is the default and never shows.
 */
static void expect_shown(struct ext4_kunit_fs *fs, bool set, const char *when)
{
	struct kunit *test = fs->test;
	char *opts = show_options(fs);

	KUNIT_EXPECT_EQ_MSG(test, !!test_opt2(fs->mnt->mnt_sb, BUFFERED_IOMAP),
			    set, "%s: EXT4_MOUNT2_BUFFERED_IOMAP", when);
	KUNIT_EXPECT_EQ_MSG(test, has_option(test, opts, "buffered_iomap"), set,
			    "%s: options \"%s\" %s buffered_iomap", when, opts,
			    set ? "lack" : "show");
	KUNIT_EXPECT_FALSE_MSG(test, has_option(test, opts, "nobuffered_iomap"),
			       "%s: options \"%s\" show the default nobuffered_iomap",
			       when, opts);
}

/*
 * Make a directory (@target NULL) or a symlink to @target in the root of the
 * mount.  The dentry is put at the latest at teardown, before the unmount.
 */
static struct dentry *make_node(struct ext4_kunit_fs *fs, const char *name,
				const char *target)
{
	struct kunit *test = fs->test;
	struct mnt_idmap *idmap = mnt_idmap(fs->mnt);
	struct dentry *root = fs->mnt->mnt_root;
	struct dentry *d;
	int err;

	d = start_creating(idmap, root, &QSTR(name));
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(d), "%s: lookup for create: %pe",
			       name, d);
	if (!target) {
		/* vfs_mkdir() ends the creation itself when it fails. */
		d = vfs_mkdir(idmap, d_inode(root), d, 0755, NULL);
		KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(d), "mkdir %s: %pe", name, d);
	} else {
		err = vfs_symlink(idmap, d_inode(root), d, target, NULL);
		if (err)
			end_creating(d);
		KUNIT_ASSERT_EQ_MSG(test, err, 0, "symlink %s", name);
	}
	d = end_creating_keep(d);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, dput_action, d), 0);
	return d;
}

static struct dentry *lookup_node(struct ext4_kunit_fs *fs, const char *name)
{
	struct dentry *d;

	d = lookup_noperm_positive_unlocked(&QSTR(name), fs->mnt->mnt_root);
	KUNIT_ASSERT_FALSE_MSG(fs->test, IS_ERR(d), "lookup %s: %pe", name, d);
	KUNIT_ASSERT_EQ(fs->test,
			kunit_add_action_or_reset(fs->test, dput_action, d), 0);
	return d;
}

static void expect_link(struct kunit *test, struct dentry *d,
			const char *target)
{
	DEFINE_DELAYED_CALL(done);
	const char *link = vfs_get_link(d, &done);

	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(link), "readlink %pd: %pe", d, link);
	KUNIT_EXPECT_STREQ_MSG(test, link, target, "target of %pd", d);
	do_delayed_call(&done);
}

/*
 * Regular files get the mount's path: buffer_heads by default, iomap with
 * buffered_iomap (the iomap aops, not only the state), both when created
 * and when read from disk again.  Directories and symlinks (a fast one in
 * the inode, a slow one in a block) never do, on either mount: their data is
 * not buffered I/O of a regular file.
 */
static void file_types_on_the_mount_path(struct kunit *test)
{
	bool iomap = cfg_iomap(test);
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	unsigned int bs = cfg(test)->geo->blocksize;
	loff_t size = 2 * PAGE_SIZE + 100;
	struct dentry *dir, *fast, *slow;
	char *target;
	struct file *f;

	/* Longer than the 60 bytes of i_block: a slow symlink, in a block. */
	target = alloc_buf(test, bs / 2 + 1);
	memset(target, 'l', bs / 2);

	f = ext4_kunit_create(fs, "reg");
	assert_file_path(test, f, "new regular file", iomap);
	write_pattern(fs, f, 1, 0, size);
	dir = make_node(fs, "dir", NULL);
	fast = make_node(fs, "fast", "reg");
	slow = make_node(fs, "slow", target);
	assert_path(test, d_inode(fs->mnt->mnt_root), "root directory", false);
	assert_path(test, d_inode(dir), "new directory", false);
	assert_path(test, d_inode(fast), "new fast symlink", false);
	assert_path(test, d_inode(slow), "new slow symlink", false);

	kunit_release_action(test, dput_action, dir);
	kunit_release_action(test, dput_action, fast);
	kunit_release_action(test, dput_action, slow);
	ext4_kunit_remount(fs);

	f = ext4_kunit_open(fs, "reg");
	assert_file_path(test, f, "regular file read from disk", iomap);
	expect_file(fs, f, 1, size, "regular file after remount");
	dir = lookup_node(fs, "dir");
	fast = lookup_node(fs, "fast");
	slow = lookup_node(fs, "slow");
	assert_path(test, d_inode(fs->mnt->mnt_root), "root directory", false);
	assert_path(test, d_inode(dir), "directory read from disk", false);
	assert_path(test, d_inode(fast), "fast symlink read from disk", false);
	assert_path(test, d_inode(slow), "slow symlink read from disk", false);
	expect_link(test, fast, "reg");
	expect_link(test, slow, target);
}

struct option_case {
	const char *opts;
	bool iomap;
};

/* The last of buffered_iomap and nobuffered_iomap wins, in either order. */
static const struct option_case option_cases[] = {
	{ NULL, false },
	{ "buffered_iomap", true },
	{ "nobuffered_iomap", false },
	{ "buffered_iomap,nobuffered_iomap", false },
	{ "nobuffered_iomap,buffered_iomap", true },
	{ "buffered_iomap,nobuffered_iomap,buffered_iomap", true },
};

/*
 * Mount with each option string, then change the option with a remount
 * that gives both in each order: the flag, the options shown and the path
 * of a new regular file follow the last one.
 */
static void last_option_wins(struct kunit *test)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, bh_config(test), NULL);
	char name[16];
	size_t i;

	fs->check_path = false;
	for (i = 0; i < ARRAY_SIZE(option_cases); i++) {
		const struct option_case *c = &option_cases[i];
		struct file *f;

		fs->opts = c->opts;
		ext4_kunit_remount(fs);
		expect_shown(fs, c->iomap, c->opts ?: "no options");
		snprintf(name, sizeof(name), "opt%zu", i);
		f = ext4_kunit_create(fs, name);
		assert_file_path(test, f, c->opts ?: "no options", c->iomap);
	}

	/* The last mount had buffered_iomap. */
	ext4_kunit_reconfigure(fs, "buffered_iomap,nobuffered_iomap");
	expect_shown(fs, false, "remount,buffered_iomap,nobuffered_iomap");
	assert_file_path(test, ext4_kunit_create(fs, "remount-off"),
			 "remount,buffered_iomap,nobuffered_iomap", false);
	ext4_kunit_reconfigure(fs, "nobuffered_iomap,buffered_iomap");
	expect_shown(fs, true, "remount,nobuffered_iomap,buffered_iomap");
	assert_file_path(test, ext4_kunit_create(fs, "remount-on"),
			 "remount,nobuffered_iomap,buffered_iomap", true);
}

/*
 * The mount's options show buffered_iomap when it is set and not when it is
 * not, and an in-place remount that does not mention it keeps it as it is;
 * one that does changes what is shown.
 */
static void option_shown_and_kept_across_remount(struct kunit *test)
{
	bool iomap = cfg_iomap(test);
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);

	fs->check_path = false;
	expect_shown(fs, iomap, "mount");
	ext4_kunit_reconfigure(fs, "commit=7");
	expect_shown(fs, iomap, "remount,commit=7");
	KUNIT_EXPECT_TRUE_MSG(test, has_option(test, show_options(fs), "commit=7"),
			      "the remount did not apply commit=7");
	assert_file_path(test, ext4_kunit_create(fs, "kept"),
			 "file after remount,commit=7", iomap);

	ext4_kunit_reconfigure(fs, iomap ? "nobuffered_iomap" : "buffered_iomap");
	expect_shown(fs, !iomap, "remount changing the option");
	ext4_kunit_reconfigure(fs, "commit=5");
	expect_shown(fs, !iomap, "remount,commit=5 after the change");
	assert_file_path(test, ext4_kunit_create(fs, "changed"),
			 "file after remount,commit=5", !iomap);
}

/*
 * A remount that changes the option leaves cached inodes on their path:
 * file A, created before, keeps it (and its aops) and still reads and
 * writes; file B, created after, gets the new one.  Once A is evicted and
 * read again it is on the new path too.  Bytes written on either path read
 * back on the other, after the switch and after a full remount (which gives
 * the configuration's path back), and nothing is left reserved.  The iomap
 * configurations switch from iomap to buffer_heads, the buffer_head ones the
 * other way.
 */
static void remount_switches_path_after_eviction(struct kunit *test)
{
	bool from = cfg_iomap(test), to = !from;
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	const struct address_space_operations *aops;
	loff_t a1 = 2 * PAGE_SIZE + 300, a2 = PAGE_SIZE + 77;
	loff_t b = PAGE_SIZE + 1000;
	struct file *fa, *fb;

	fs->check_path = false;
	fa = ext4_kunit_create(fs, "A");
	assert_file_path(test, fa, "A before the remount", from);
	aops = fa->f_mapping->a_ops;
	/* Left dirty: the remount must not lose it. */
	write_pattern(fs, fa, 1, 0, a1);

	ext4_kunit_reconfigure(fs, to ? "buffered_iomap" : "nobuffered_iomap");
	assert_file_path(test, fa, "A, cached across the remount", from);
	KUNIT_EXPECT_PTR_EQ_MSG(test, fa->f_mapping->a_ops, aops,
				"A changed aops while cached");
	write_pattern(fs, fa, 1, a1, a2);
	expect_file(fs, fa, 1, a1 + a2, "A, cached, after the remount");

	fb = ext4_kunit_create(fs, "B");
	assert_file_path(test, fb, "B, created after the remount", to);
	write_pattern(fs, fb, 2, 0, b);

	ext4_kunit_evict(fs, fa);
	fa = ext4_kunit_open(fs, "A");
	assert_file_path(test, fa, "A, read again after eviction", to);
	KUNIT_EXPECT_PTR_EQ_MSG(test, fa->f_mapping->a_ops, fb->f_mapping->a_ops,
				"A and B have different aops on one path");
	expect_file(fs, fa, 1, a1 + a2, "A after eviction");
	KUNIT_EXPECT_EQ_MSG(test, EXT4_I(file_inode(fa))->i_reserved_data_blocks,
			    0U, "A reserved blocks after eviction");
	/* A again, on its new path. */
	write_pattern(fs, fa, 1, a1 + a2, 100);
	expect_fs_clean(fs, "after the switch");

	ext4_kunit_remount(fs);
	fa = ext4_kunit_open(fs, "A");
	fb = ext4_kunit_open(fs, "B");
	assert_file_path(test, fa, "A after a full remount", from);
	assert_file_path(test, fb, "B after a full remount", from);
	expect_file(fs, fa, 1, a1 + a2 + 100, "A after a full remount");
	expect_file(fs, fb, 2, b, "B after a full remount");
	expect_fs_clean(fs, "after the full remount");
}

/*
 * data=journal journals the data of every file through buffer_heads: with
 * buffered_iomap as well, every regular file stays on buffer_heads, the
 * option is kept as asked (and shown), and the mount warns that it has no
 * effect.  Without buffered_iomap there is nothing to warn about, until a
 * remount asks for it.
 */
static void data_journal_mount_uses_buffer_heads(struct kunit *test)
{
	bool iomap = cfg_iomap(test);
	loff_t size = 2 * PAGE_SIZE + 10;
	const char *warning = "buffered_iomap has no effect with data=journal";
	struct ext4_kunit_fs *fs;
	struct super_block *sb;
	struct file *f;
	u64 mark;

	mark = log_mark();
	fs = ext4_kunit_mount(test, cfg(test), "data=journal");
	sb = fs->mnt->mnt_sb;
	fs->check_path = false;
	KUNIT_ASSERT_EQ(test, test_opt(sb, DATA_FLAGS), EXT4_MOUNT_JOURNAL_DATA);
	KUNIT_EXPECT_STREQ(test, ext4_buffered_iomap_unsupported(sb),
			   "data=journal");
	expect_shown(fs, iomap, "data=journal mount");
	KUNIT_EXPECT_EQ_MSG(test, logged_since(test, mark, warning), iomap,
			    "the mount %s \"%s\"", iomap ? "did not log" : "logged",
			    warning);

	f = ext4_kunit_create(fs, "dj");
	assert_file_path(test, f, "file on a data=journal mount", false);
	KUNIT_EXPECT_TRUE(test, ext4_should_journal_data(file_inode(f)));
	write_pattern(fs, f, 3, 0, size);
	ext4_kunit_fsync(fs, f);
	ext4_kunit_drop_cache(fs, f);
	expect_file(fs, f, 3, size, "data=journal file");

	mark = log_mark();
	ext4_kunit_reconfigure(fs, iomap ? "nobuffered_iomap" : "buffered_iomap");
	KUNIT_EXPECT_EQ_MSG(test, logged_since(test, mark, warning), !iomap,
			    "the remount %s \"%s\"", iomap ? "logged" : "did not log",
			    warning);
	assert_file_path(test, ext4_kunit_create(fs, "dj2"),
			 "file after the remount", false);
	ext4_kunit_remount(fs);
	f = ext4_kunit_open(fs, "dj");
	assert_file_path(test, f, "data=journal file after remount", false);
	expect_file(fs, f, 3, size, "data=journal file after remount");
}

static void set_inline_data(struct super_block *sb)
{
	ext4_set_feature_inline_data(sb);
}

static void clear_inline_data(struct super_block *sb)
{
	ext4_clear_feature_inline_data(sb);
}

static void set_encrypt(struct super_block *sb)
{
	ext4_set_feature_encrypt(sb);
}

static void clear_encrypt(struct super_block *sb)
{
	ext4_clear_feature_encrypt(sb);
}

static void set_verity(struct super_block *sb)
{
	ext4_set_feature_verity(sb);
}

static void clear_verity(struct super_block *sb)
{
	ext4_clear_feature_verity(sb);
}

static void set_extents(struct super_block *sb)
{
	ext4_set_feature_extents(sb);
}

static void clear_extents(struct super_block *sb)
{
	ext4_clear_feature_extents(sb);
}

struct feature_case {
	const char *reason;	/* from ext4_buffered_iomap_unsupported() */
	void (*apply)(struct super_block *sb);
	void (*restore)(struct super_block *sb);
	/*
	 * Whether the new file may be written while the feature is changed:
	 * with inline_data it would get inline data, which the filesystem
	 * has no feature for once the bit is cleared again.
	 */
	bool write;
	/* Whether the file created meanwhile has extents. */
	bool extents;
};

static const struct feature_case feature_cases[] = {
	{ "inline_data feature", set_inline_data, clear_inline_data,
	  false, true },
	{ "encrypt feature", set_encrypt, clear_encrypt, true, true },
	{ "verity feature", set_verity, clear_verity, true, true },
	{ "no extents feature", clear_extents, set_extents, true, false },
};

struct feature_restore {
	struct super_block *sb;
	void (*restore)(struct super_block *sb);
};

static void feature_restore_action(void *data)
{
	struct feature_restore *r = data;

	r->restore(r->sb);
}

/*
 * The images have none of the inline_data, encrypt and verity features, and
 * all have extents.  ext4_buffered_iomap_unsupported() and
 * ext4_enable_buffered_iomap() read only the feature bits of the in-memory
 * superblock, which is also what tune2fs and the ioctls that turn these
 * features on while mounted change, so flipping a bit there around one
 * create tests the policy exactly.  Nothing is done meanwhile that would put
 * the feature on disk (no inline data is written, nothing is encrypted), and
 * the bit is put back before unmount, also when the test fails, so the image
 * stays consistent.
 *
 * While the feature is changed ext4_buffered_iomap_unsupported() names it,
 * a remount warns on a buffered_iomap mount, and a new regular file gets
 * buffer_heads on both paths; a file cached before keeps its path.  Once the
 * bit is back, the new file, evicted and read again, gets the mount's path,
 * except the one created without the extents feature: it is indirect-mapped
 * and stays on buffer_heads (the per-inode fallback).  With bigalloc, ext4
 * refuses to allocate blocks to an indirect-mapped file, so that file is
 * left empty there.
 */
static void feature_fallbacks(struct kunit *test)
{
	bool iomap = cfg_iomap(test);
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	struct super_block *sb = fs->mnt->mnt_sb;
	loff_t size = PAGE_SIZE + 512;
	struct file *ref;
	size_t i;

	fs->check_path = false;
	ref = ext4_kunit_create(fs, "cached");
	for (i = 0; i < ARRAY_SIZE(feature_cases); i++) {
		const struct feature_case *c = &feature_cases[i];
		struct feature_restore *r;
		bool write = c->write && (c->extents || !cfg_bigalloc(test));
		char warning[80];
		char name[16];
		struct file *f;
		u64 mark;
		int err;

		snprintf(name, sizeof(name), "feat%zu", i);
		snprintf(warning, sizeof(warning),
			 "buffered_iomap has no effect with %s", c->reason);
		r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, r);
		r->sb = sb;
		r->restore = c->restore;

		KUNIT_ASSERT_NULL(test, ext4_buffered_iomap_unsupported(sb));
		c->apply(sb);
		err = kunit_add_action_or_reset(test, feature_restore_action, r);
		KUNIT_ASSERT_EQ(test, err, 0);
		KUNIT_EXPECT_STREQ(test, ext4_buffered_iomap_unsupported(sb),
				   c->reason);
		mark = log_mark();
		ext4_kunit_reconfigure(fs, "commit=5");
		KUNIT_EXPECT_EQ_MSG(test, logged_since(test, mark, warning), iomap,
				    "a remount %s \"%s\"",
				    iomap ? "did not log" : "logged", warning);

		f = ext4_kunit_create(fs, name);
		assert_file_path(test, f, c->reason, false);
		assert_file_path(test, ref, "file cached before", iomap);
		KUNIT_EXPECT_EQ_MSG(test, ext4_test_inode_flag(file_inode(f),
							       EXT4_INODE_EXTENTS),
				    c->extents, "%s: extent flag of the new file",
				    c->reason);
		if (write) {
			write_pattern(fs, f, 4 + i, 0, size);
			ext4_kunit_fsync(fs, f);
		}

		kunit_release_action(test, feature_restore_action, r);
		KUNIT_EXPECT_NULL_MSG(test, ext4_buffered_iomap_unsupported(sb),
				      "%s: restored", c->reason);
		/* Drops in-memory state the feature gave the inode. */
		ext4_kunit_evict(fs, f);
		f = ext4_kunit_open(fs, name);
		assert_file_path(test, f, c->extents ?
				 "file of the feature, read again" :
				 "indirect-mapped file, read again",
				 iomap && c->extents);
		if (write)
			expect_file(fs, f, 4 + i, size, c->reason);
		else
			KUNIT_EXPECT_EQ(test, i_size_read(file_inode(f)), 0);
	}

	ext4_kunit_remount(fs);
	for (i = 0; i < ARRAY_SIZE(feature_cases); i++) {
		const struct feature_case *c = &feature_cases[i];
		bool write = c->write && (c->extents || !cfg_bigalloc(test));
		char name[16];
		struct file *f;

		snprintf(name, sizeof(name), "feat%zu", i);
		f = ext4_kunit_open(fs, name);
		assert_file_path(test, f, c->extents ?
				 "file of the feature, after remount" :
				 "indirect-mapped file, after remount",
				 iomap && c->extents);
		if (write)
			expect_file(fs, f, 4 + i, size, c->reason);
	}
}

static int change_journal_flag(struct file *file, int val)
{
	struct inode *inode = file_inode(file);
	int err;

	/* As the FS_IOC_SETFLAGS and FS_IOC_FSSETXATTR ioctls call it. */
	inode_lock(inode);
	err = ext4_change_inode_journal_flag(inode, val);
	inode_unlock(inode);
	return err;
}

/*
 * Set and clear the data journalling flag of the cached file @name, on a
 * mount with (@journalled) or without nodelalloc.
 */
static void journal_flag_round_trip(struct ext4_kunit_fs *fs, const char *name,
				    u8 seed, bool journalled)
{
	struct kunit *test = fs->test;
	bool iomap = fs->path == EXT4_KUNIT_IOMAP;
	loff_t s1 = 2 * PAGE_SIZE + 123, s2 = PAGE_SIZE + 45, s3 = 300;
	const struct address_space_operations *aops;
	struct file *f, *ref;
	char refname[24];

	snprintf(refname, sizeof(refname), "%s-ref", name);
	fs->check_path = true;
	ref = ext4_kunit_create(fs, refname);
	aops = ref->f_mapping->a_ops;
	f = ext4_kunit_create(fs, name);
	assert_file_path(test, f, name, iomap);
	/* Left dirty: the switch writes it back. */
	write_pattern(fs, f, seed, 0, s1);
	fs->check_path = false;

	KUNIT_ASSERT_EQ(test, change_journal_flag(f, 1), 0);
	assert_file_path(test, f, "file with the data journalling flag", false);
	KUNIT_EXPECT_TRUE(test, ext4_test_inode_flag(file_inode(f),
						     EXT4_INODE_JOURNAL_DATA));
	KUNIT_EXPECT_EQ_MSG(test, ext4_should_journal_data(file_inode(f)),
			    journalled, "data journalling with%s delalloc",
			    journalled ? "out" : "");
	/*
	 * Journalled aops with nodelalloc; with delalloc ext4 ignores the
	 * flag and the file gets the buffer_head aops of the mount.
	 */
	if (journalled || iomap)
		KUNIT_EXPECT_PTR_NE_MSG(test, f->f_mapping->a_ops, aops,
					"%s kept the aops of the mount's path",
					name);
	else
		KUNIT_EXPECT_PTR_EQ_MSG(test, f->f_mapping->a_ops, aops,
					"%s changed aops without journalling",
					name);
	KUNIT_EXPECT_EQ_MSG(test, f->f_mapping->nrpages, 0UL,
			    "page cache kept across the switch");
	expect_file(fs, f, seed, s1, "after setting the flag");
	write_pattern(fs, f, seed, s1, s2);
	expect_file(fs, f, seed, s1 + s2, "written with the flag");

	ext4_kunit_remount(fs);
	f = ext4_kunit_open(fs, name);
	assert_file_path(test, f, "file read from disk with the flag", false);
	KUNIT_EXPECT_EQ(test, ext4_should_journal_data(file_inode(f)), journalled);
	expect_file(fs, f, seed, s1 + s2, "flag set, after remount");

	KUNIT_ASSERT_EQ(test, change_journal_flag(f, 0), 0);
	assert_file_path(test, f, "file after clearing the flag", iomap);
	KUNIT_EXPECT_FALSE(test, ext4_should_journal_data(file_inode(f)));
	ref = ext4_kunit_open(fs, refname);
	KUNIT_EXPECT_PTR_EQ_MSG(test, f->f_mapping->a_ops, ref->f_mapping->a_ops,
				"%s has other aops than the files of its path",
				name);
	expect_file(fs, f, seed, s1 + s2, "after clearing the flag");
	write_pattern(fs, f, seed, s1 + s2, s3);
	expect_fs_clean(fs, "after clearing the flag");

	ext4_kunit_remount(fs);
	f = ext4_kunit_open(fs, name);
	assert_file_path(test, f, "file read from disk without the flag", iomap);
	expect_file(fs, f, seed, s1 + s2 + s3, "flag cleared, after remount");
}

/*
 * The per-inode data journalling flag moves a cached file at once: setting
 * it writes back and drops the page cache and puts the file on buffer_heads
 * (on both paths); clearing it puts the file back on the mount's path with
 * the aops of the other files there.  A file read from disk with the flag set
 * is on buffer_heads whatever the mount says.  Data written before each
 * switch reads back after it, and after remounts.
 *
 * ext4 journals the data of such a file only without delayed allocation
 * (ext4_inode_journal_mode()): with nodelalloc it gets the journalled aops;
 * with delalloc the flag is ignored for journalling, but still keeps the
 * file off the iomap path, which checks the flag itself.  Both are run.
 */
static void journal_flag_moves_cached_file(struct kunit *test)
{
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), "nodelalloc");

	journal_flag_round_trip(fs, "jnodelalloc", 5, true);
	fs->opts = NULL;
	ext4_kunit_remount(fs);
	journal_flag_round_trip(fs, "jdelalloc", 6, false);
}

/* Physical block of each of the first @n blocks of @file, 0 for none. */
static ext4_fsblk_t *pblks(struct kunit *test, struct file *file,
			   unsigned int n)
{
	ext4_fsblk_t *pblk = kunit_kcalloc(test, n, sizeof(*pblk), GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, pblk);
	for (i = 0; i < n; i++) {
		struct ext4_map_blocks map = { .m_lblk = i, .m_len = 1 };
		int ret = ext4_map_blocks(NULL, file_inode(file), &map, 0);

		KUNIT_ASSERT_GE_MSG(test, ret, 0, "mapping block %u", i);
		pblk[i] = ret > 0 ? map.m_pblk : 0;
	}
	return pblk;
}

static void expect_pblks(struct kunit *test, const ext4_fsblk_t *got,
			 const ext4_fsblk_t *want, unsigned int n,
			 const char *what)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (got[i] != want[i]) {
			KUNIT_FAIL(test, "%s: block %u is at %llu, expected %llu",
				   what, i, got[i], want[i]);
			return;
		}
	}
}

/*
 * Converting a file to indirect blocks (clearing EXT4_EXTENTS_FL with
 * FS_IOC_SETFLAGS) would take an iomap file off the unwritten extents its
 * path allocates with: ext4_ind_migrate() refuses it with -EOPNOTSUPP and
 * changes nothing.  On buffer_heads a file of one extent within the direct
 * blocks converts (0, blocks in i_data), and stays on buffer_heads when a
 * buffered_iomap remount reads it again, as a non-extent file.  bigalloc
 * refuses the conversion on both paths, for itself (-EOPNOTSUPP, checked
 * first).
 */
static void ind_migrate_refuses_iomap_file(struct kunit *test)
{
	bool iomap = cfg_iomap(test), bigalloc = cfg_bigalloc(test);
	bool converts = !iomap && !bigalloc;
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	loff_t size = 4 * cfg(test)->geo->blocksize;
	struct ext4_inode_info *ei;
	ext4_fsblk_t *before;
	struct inode *inode;
	struct file *f;
	int i, ret;

	f = ext4_kunit_create(fs, "mig");
	inode = file_inode(f);
	ei = EXT4_I(inode);
	write_pattern(fs, f, 9, 0, size);
	ext4_kunit_fsync(fs, f);
	KUNIT_ASSERT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 5), "WWWW.");
	before = pblks(test, f, 4);
	for (i = 1; i < 4; i++)
		KUNIT_ASSERT_EQ_MSG(test, before[i], before[0] + i,
				    "the blocks are not one extent");

	inode_lock(inode);
	ret = ext4_ind_migrate(inode);
	inode_unlock(inode);
	KUNIT_EXPECT_EQ_MSG(test, ret, converts ? 0 : -EOPNOTSUPP,
			    "ext4_ind_migrate() of a %s file%s", path_name(iomap),
			    bigalloc ? " with bigalloc" : "");
	KUNIT_EXPECT_EQ_MSG(test, ext4_test_inode_flag(inode, EXT4_INODE_EXTENTS),
			    !converts, "extent flag after ext4_ind_migrate()");
	assert_file_path(test, f, "mig after ext4_ind_migrate()", iomap);
	if (converts) {
		for (i = 0; i < EXT4_N_BLOCKS; i++)
			KUNIT_EXPECT_EQ_MSG(test, le32_to_cpu(ei->i_data[i]),
					    i < 4 ? (u32)before[i] : 0,
					    "i_data[%d] after conversion", i);
	} else {
		KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, f, 0, 5),
				   "WWWW.");
	}
	expect_pblks(test, pblks(test, f, 4), before, 4, "after ext4_ind_migrate()");
	ext4_kunit_drop_cache(fs, f);
	expect_file(fs, f, 9, size, "after ext4_ind_migrate()");

	ext4_kunit_remount(fs);
	f = ext4_kunit_open(fs, "mig");
	KUNIT_EXPECT_EQ_MSG(test,
			    ext4_test_inode_flag(file_inode(f), EXT4_INODE_EXTENTS),
			    !converts, "extent flag after remount");
	expect_pblks(test, pblks(test, f, 4), before, 4, "after remount");
	expect_file(fs, f, 9, size, "after remount");
	if (!converts)
		return;

	fs->check_path = false;
	ext4_kunit_reconfigure(fs, "buffered_iomap");
	ext4_kunit_evict(fs, f);
	f = ext4_kunit_open(fs, "mig");
	assert_file_path(test, f, "indirect-mapped mig on a buffered_iomap remount",
			 false);
	expect_file(fs, f, 9, size, "indirect-mapped, buffered_iomap remount");
	assert_file_path(test, ext4_kunit_create(fs, "new"),
			 "new file on the buffered_iomap remount", true);
}

/* A file of @n blocks of the pattern of @seed, on disk. */
static struct file *make_file(struct ext4_kunit_fs *fs, const char *name,
			      u8 seed, unsigned int n, bool iomap)
{
	struct file *f = ext4_kunit_create(fs, name);

	assert_file_path(fs->test, f, name, iomap);
	write_pattern(fs, f, seed, 0, (size_t)n * fs->geo->blocksize);
	ext4_kunit_fsync(fs, f);
	return f;
}

/* EXT4_IOC_MOVE_EXT, as the ioctl does it once it has the two files. */
static int move_extents(struct file *orig, struct file *donor, u64 len,
			u64 *moved)
{
	int err = mnt_want_write_file(orig);

	if (err)
		return err;
	err = ext4_move_extents(orig, donor, 0, 0, len, moved);
	mnt_drop_write_file(orig);
	return err;
}

/*
 * Moving extents with an iomap file as the original or as the donor is
 * refused: -EOPNOTSUPP, nothing moved, both files keep their blocks and
 * bytes, and the reason is logged.
 */
static void expect_move_refused(struct ext4_kunit_fs *fs, struct file *orig,
				u8 orig_seed, struct file *donor, u8 donor_seed,
				unsigned int n, const char *reason,
				const char *what)
{
	struct kunit *test = fs->test;
	size_t size = (size_t)n * fs->geo->blocksize;
	ext4_fsblk_t *o = pblks(test, orig, n), *d = pblks(test, donor, n);
	u64 moved = 1;
	u64 mark = log_mark();

	KUNIT_EXPECT_EQ_MSG(test, move_extents(orig, donor, n, &moved),
			    -EOPNOTSUPP, "%s", what);
	KUNIT_EXPECT_EQ_MSG(test, moved, 0ULL, "%s: blocks moved", what);
	KUNIT_EXPECT_TRUE_MSG(test, logged_since(test, mark, reason),
			      "%s: \"%s\" not logged", what, reason);
	expect_pblks(test, pblks(test, orig, n), o, n, what);
	expect_pblks(test, pblks(test, donor, n), d, n, what);
	ext4_kunit_drop_cache(fs, orig);
	ext4_kunit_drop_cache(fs, donor);
	expect_file(fs, orig, orig_seed, size, what);
	expect_file(fs, donor, donor_seed, size, what);
}

/*
 * Online defragmentation copies data through buffer_heads and relies on
 * data=ordered: with an iomap file as the original or as the donor it is
 * refused.  Between two buffer_head files it works: every block is moved,
 * the original keeps its bytes in the donor's blocks, the donor gets the
 * original's blocks as unwritten extents (ext4_swap_extents() marks them so)
 * and reads zeros there.  With bigalloc
 * online defrag is refused for every file, before the path is looked at.
 * Each configuration makes the iomap file and the buffer_head ones on either
 * side of a remount, starting from its own path.
 */
static void move_extents_refuses_iomap_file(struct kunit *test)
{
	bool iomap = cfg_iomap(test), bigalloc = cfg_bigalloc(test);
	struct ext4_kunit_fs *fs = ext4_kunit_mount(test, cfg(test), NULL);
	/* Two pages, or two blocks where a block is larger. */
	unsigned int n = max_t(unsigned int, 2,
				2 * PAGE_SIZE / cfg(test)->geo->blocksize);
	size_t size = (size_t)n * cfg(test)->geo->blocksize;
	const char *refusal = bigalloc ?
		"Online defrag not supported with bigalloc" :
		"Online defrag not supported for files using iomap buffered I/O";
	struct file *io, *b1, *b2;
	ext4_fsblk_t *o, *d;
	u64 moved = 0;
	int ret;

	fs->check_path = false;
	if (iomap) {
		io = make_file(fs, "io", 10, n, true);
		ext4_kunit_reconfigure(fs, "nobuffered_iomap");
	}
	b1 = make_file(fs, "b1", 11, n, false);
	b2 = make_file(fs, "b2", 12, n, false);
	if (!iomap) {
		ext4_kunit_reconfigure(fs, "buffered_iomap");
		io = make_file(fs, "io", 10, n, true);
	}

	expect_move_refused(fs, io, 10, b1, 11, n, refusal,
			    "iomap original, buffer_head donor");
	expect_move_refused(fs, b1, 11, io, 10, n, refusal,
			    "buffer_head original, iomap donor");

	o = pblks(test, b1, n);
	d = pblks(test, b2, n);
	ret = move_extents(b1, b2, n, &moved);
	if (bigalloc) {
		KUNIT_EXPECT_EQ_MSG(test, ret, -EOPNOTSUPP,
				    "moving extents with bigalloc");
		KUNIT_EXPECT_EQ(test, moved, 0ULL);
		expect_pblks(test, pblks(test, b1, n), o, n, "b1, refused");
		expect_pblks(test, pblks(test, b2, n), d, n, "b2, refused");
		return;
	}
	KUNIT_EXPECT_EQ_MSG(test, ret, 0, "moving extents between bh files");
	KUNIT_EXPECT_EQ_MSG(test, moved, (u64)n, "blocks moved");
	expect_pblks(test, pblks(test, b1, n), d, n, "original after the move");
	expect_pblks(test, pblks(test, b2, n), o, n, "donor after the move");
	expect_file(fs, b1, 11, size, "original after the move");
	ext4_kunit_drop_cache(fs, b1);
	ext4_kunit_drop_cache(fs, b2);
	expect_file(fs, b1, 11, size, "original after the move, from disk");
	/* The original's old blocks are unwritten in the donor. */
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, b1, 0, n + 1),
			   map_of(test, 'W', n));
	KUNIT_EXPECT_STREQ(test, ext4_kunit_extent_map(fs, b2, 0, n + 1),
			   map_of(test, 'U', n));
	expect_zeros(fs, b2, size, "donor after the move, from disk");
	expect_fs_clean(fs, "after the move");

	ext4_kunit_remount(fs);
	b1 = ext4_kunit_open(fs, "b1");
	io = ext4_kunit_open(fs, "io");
	expect_file(fs, b1, 11, size, "original after remount");
	expect_file(fs, io, 10, size, "iomap file after remount");
}

/* Mount ram0 as ext3 with the option @opt (or none); 0 or the error. */
static int mount_ext3(struct kunit *test, const char *opt)
{
	struct file_system_type *type = get_fs_type("ext3");
	struct vfsmount *mnt = NULL;
	struct fs_context *fc;
	int err;

	KUNIT_ASSERT_NOT_NULL(test, type);
	fc = fs_context_for_mount(type, SB_KERNMOUNT);
	put_filesystem(type);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, fc);
	err = vfs_parse_fs_string(fc, "source", RAMDISK_PATH);
	if (!err && opt)
		err = vfs_parse_fs_string(fc, opt, NULL);
	if (!err) {
		scoped_with_init_fs()
			mnt = fc_mount_longterm(fc);
		if (IS_ERR(mnt))
			err = PTR_ERR(mnt);
		else
			kern_unmount(mnt);
	}
	put_fs_context(fc);
	/* Give the block device back now, for the next mount. */
	flush_delayed_fput();
	return err;
}

/*
 * buffered_iomap and nobuffered_iomap are ext4-only: mounting as ext3 with
 * either is refused, for the option ("Mount option(s) incompatible with
 * ext3"), before the features are looked at.  The images cannot be mounted
 * as ext3 at all (extents, flex_bg and 64bit are not ext3 features), which
 * a mount as ext3 without the option shows with its own message; so the
 * message is what tells the two refusals apart, and there is no ext3 mount
 * on which the option could be seen taking no effect.  ext4 takes the same
 * option on the same image.
 */
static void ext3_mount_refuses_option(struct kunit *test)
{
	static const char * const opts[] = { "buffered_iomap", "nobuffered_iomap" };
	const char *opt_msg = "Mount option(s) incompatible with ext3";
	const char *feat_msg = "couldn't mount as ext3 due to feature incompatibilities";
	const struct ext4_kunit_geometry *geo = test->param_value;
	struct ext4_kunit_fs *fs;
	u64 mark;
	int i;

	/*
	 * ext3 refuses blocks above the page size before it parses options
	 * ("block size ... > page size ... not supported"): neither refusal
	 * this case tells apart can show.
	 */
	if (geo->blocksize > PAGE_SIZE)
		kunit_skip(test, "ext3 does not mount %u-byte blocks on %lu-byte pages",
			   geo->blocksize, PAGE_SIZE);
	fs = ext4_kunit_mount(test, bh_config(test), NULL);

	/* ext3 cannot mount ram0 while ext4 has it. */
	KUNIT_ASSERT_TRUE(test, list_empty(&fs->files));
	KUNIT_ASSERT_FALSE(test, EXT4_SB(fs->mnt->mnt_sb)->s_mount_state &
				 EXT4_ERROR_FS);
	kern_unmount(fs->mnt);
	fs->mnt = NULL;
	flush_delayed_fput();

	for (i = 0; i < ARRAY_SIZE(opts); i++) {
		mark = log_mark();
		KUNIT_EXPECT_EQ_MSG(test, mount_ext3(test, opts[i]), -EINVAL,
				    "mount -t ext3 -o %s", opts[i]);
		KUNIT_EXPECT_TRUE_MSG(test, logged_since(test, mark, opt_msg),
				      "ext3 with %s: \"%s\" not logged", opts[i],
				      opt_msg);
		KUNIT_EXPECT_FALSE_MSG(test, logged_since(test, mark, feat_msg),
				       "ext3 with %s: refused for the features, not the option",
				       opts[i]);
	}

	mark = log_mark();
	KUNIT_EXPECT_EQ_MSG(test, mount_ext3(test, NULL), -EINVAL,
			    "mount -t ext3 without the option");
	KUNIT_EXPECT_TRUE_MSG(test, logged_since(test, mark, feat_msg),
			      "ext3 without the option: \"%s\" not logged", feat_msg);
	KUNIT_EXPECT_FALSE(test, logged_since(test, mark, opt_msg));

	fs->opts = "buffered_iomap";
	ext4_kunit_remount(fs);
	expect_shown(fs, true, "ext4 with buffered_iomap");
}

static struct kunit_case ext4_buffered_iomap_path_cases[] = {
	KUNIT_CASE_PARAM(file_types_on_the_mount_path, config_gen_params),
	KUNIT_CASE_PARAM(last_option_wins, geometry_gen_params),
	KUNIT_CASE_PARAM(option_shown_and_kept_across_remount, config_gen_params),
	KUNIT_CASE_PARAM(remount_switches_path_after_eviction, config_gen_params),
	KUNIT_CASE_PARAM(data_journal_mount_uses_buffer_heads, config_gen_params),
	KUNIT_CASE_PARAM(feature_fallbacks, config_gen_params),
	KUNIT_CASE_PARAM(journal_flag_moves_cached_file, config_gen_params),
	KUNIT_CASE_PARAM(ind_migrate_refuses_iomap_file, config_gen_params),
	KUNIT_CASE_PARAM(move_extents_refuses_iomap_file, config_gen_params),
	KUNIT_CASE_PARAM(ext3_mount_refuses_option, geometry_gen_params),
	{}
};

static struct kunit_suite ext4_buffered_iomap_path_suite = {
	.name = "ext4_buffered_iomap_path",
	.test_cases = ext4_buffered_iomap_path_cases,
};

kunit_test_suites(&ext4_buffered_iomap_path_suite);

MODULE_DESCRIPTION("KUnit tests of which ext4 files use the iomap buffered I/O path");
MODULE_LICENSE("GPL");
