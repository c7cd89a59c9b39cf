// codesynth's warm Java compiler: one long-lived JVM per sandbox worker, outside every job.
// Requests and replies are length-prefixed frames on stdin/stdout (see
// codesynth/sandbox/_javac_service.py). Sources come in by value and class files go out by
// value: nothing is read from or written to the filesystem except the JDK's own classes.
// Annotation processing is off (-proc:none) and the class path is empty, so no code of a
// job runs here. Nothing of a request is kept after its reply.
import java.io.*;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.*;
import javax.tools.*;

public class CodesynthJavac {
    static final class Source extends SimpleJavaFileObject {
        final String name, text;
        Source(String name, String text) {
            super(URI.create("string:///" + name), Kind.SOURCE);
            this.name = name;
            this.text = text;
        }
        @Override public String getName() { return name; }
        @Override public CharSequence getCharContent(boolean ignore) { return text; }
    }

    static final class Output extends SimpleJavaFileObject {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Output(String binaryName) {
            super(URI.create("mem:///" + binaryName.replace('.', '/') + ".class"), Kind.CLASS);
        }
        @Override public OutputStream openOutputStream() { return bytes; }
    }

    static final class Memory extends ForwardingJavaFileManager<StandardJavaFileManager> {
        final Map<String, Output> classes = new LinkedHashMap<>();
        Memory(StandardJavaFileManager inner) { super(inner); }
        @Override public JavaFileObject getJavaFileForOutput(Location where, String name,
                JavaFileObject.Kind kind, FileObject sibling) throws IOException {
            if (kind != JavaFileObject.Kind.CLASS) throw new IOException("only class files");
            Output out = new Output(name);
            classes.put(name, out);
            return out;
        }
        @Override public FileObject getFileForOutput(Location where, String pkg, String name,
                FileObject sibling) throws IOException {
            throw new IOException("no other output");
        }
    }

    static String str(DataInputStream in) throws IOException {
        byte[] data = new byte[in.readInt()];
        in.readFully(data);
        return new String(data, StandardCharsets.UTF_8);
    }

    static void put(DataOutputStream out, byte[] data) throws IOException {
        out.writeInt(data.length);
        out.write(data);
    }

    static void put(DataOutputStream out, String text) throws IOException {
        put(out, text.getBytes(StandardCharsets.UTF_8));
    }

    // One request: options, then sources; the reply: 0 + class files, 1 + diagnostics as
    // javac prints them (file:line: error: message), 2 + why the compiler itself failed.
    static byte[] compile(JavaCompiler javac, DataInputStream in) throws IOException {
        List<String> options = new ArrayList<>(List.of("-proc:none", "-implicit:none"));
        for (int n = in.readInt(); n > 0; n--) options.add(str(in));
        List<JavaFileObject> sources = new ArrayList<>();
        for (int n = in.readInt(); n > 0; n--) sources.add(new Source(str(in), str(in)));
        ByteArrayOutputStream reply = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(reply);
        StringWriter printed = new StringWriter();  // diagnostics exactly as javac prints them
        StandardJavaFileManager standard = javac.getStandardFileManager(null, Locale.ROOT,
                StandardCharsets.UTF_8);
        standard.setLocation(StandardLocation.CLASS_PATH, List.of());
        standard.setLocation(StandardLocation.SOURCE_PATH, List.of());
        standard.setLocation(StandardLocation.ANNOTATION_PROCESSOR_PATH, List.of());
        Memory memory = new Memory(standard);
        boolean ok;
        try {
            ok = javac.getTask(printed, memory, null, options, null, sources).call();
        } catch (Throwable failure) {  // a javac crash (e.g. StackOverflowError): not ours to judge
            out.writeInt(2);
            put(out, String.valueOf(failure));
            return reply.toByteArray();
        }
        if (ok) {
            out.writeInt(0);
            out.writeInt(memory.classes.size());
            for (Map.Entry<String, Output> entry : memory.classes.entrySet()) {
                put(out, entry.getKey());
                put(out, entry.getValue().bytes.toByteArray());
            }
        } else {
            out.writeInt(1);
            put(out, printed.toString());
        }
        out.flush();
        return reply.toByteArray();
    }

    public static void main(String[] args) throws Exception {
        DataInputStream in = new DataInputStream(new BufferedInputStream(System.in));
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(
                new FileOutputStream(FileDescriptor.out)));
        PrintStream nowhere = new PrintStream(OutputStream.nullOutputStream());
        System.setOut(nowhere);  // the frames own stdout
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        out.writeInt(0);  // ready
        out.flush();
        while (true) {
            int length;
            try {
                length = in.readInt();
            } catch (EOFException end) {
                return;
            }
            byte[] request = new byte[length];
            in.readFully(request);
            byte[][] held = {request};
            request = null;
            byte[][] reply = new byte[1][];
            Thread worker = new Thread(null, () -> {
                try {
                    reply[0] = compile(javac, new DataInputStream(new ByteArrayInputStream(held[0])));
                } catch (IOException bad) {
                    reply[0] = null;
                }
            }, "compile", 0L);  // the JVM's default stack, as javac's own main thread
            worker.start();
            worker.join();
            held[0] = null;
            if (reply[0] == null) return;  // a malformed request: the client restarts us
            put(out, reply[0]);
            out.flush();
            reply[0] = null;
        }
    }
}
